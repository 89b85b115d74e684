import Linalg
import XCTest

/// Sharded noise draws: the shards' values, concatenated in rank order, are the global
/// draw's, and every shard leaves the generator where the global draw does.
final class RowShardTests: XCTestCase {
    func testSharesCoverTheBatchEvenly() {
        let shards = (0..<3).map { RowShard(rank: $0, of: 3, globalRows: 100) }
        XCTAssertEqual(shards.map(\.rows), [0..<33, 33..<66, 66..<100])
        XCTAssertEqual(shards.map(\.weight).reduce(0, +), 1, accuracy: 1e-6)
    }

    func testShardedDrawsAreTheGlobalDrawsRows() {
        // Odd sizes: a Box-Muller pair straddles shard boundaries, and the total is odd.
        for (rows, cols, size) in [(7, 3, 2), (100, 5, 3), (5, 1, 5), (64, 100, 2)] {
            var global = Xoshiro256(seed: 11)
            var all = [Float](repeating: 0, count: rows * cols)
            var uniform = all
            all.withUnsafeMutableBufferPointer { global.fillNormal($0) }
            uniform.withUnsafeMutableBufferPointer { global.fillUniform($0) }
            let after = global.next()   // the generator's next value after both global draws
            var normalParts: [Float] = [], uniformParts: [Float] = []
            for rank in 0..<size {
                let shard = RowShard(rank: rank, of: size, globalRows: rows)
                var rng = Xoshiro256(seed: 11)
                var n = [Float](repeating: 0, count: shard.rows.count * cols), u = n
                n.withUnsafeMutableBufferPointer { rng.fillNormal($0, shard: shard, cols: cols) }
                u.withUnsafeMutableBufferPointer { rng.fillUniform($0, shard: shard, cols: cols) }
                normalParts += n
                uniformParts += u
                XCTAssertEqual(rng.next(), after, "\(rows)x\(cols) rank \(rank): generator state differs")
            }
            XCTAssertEqual(normalParts, all, "\(rows)x\(cols) over \(size)")
            XCTAssertEqual(uniformParts, uniform, "\(rows)x\(cols) over \(size)")
        }
    }
}
