import Foundation
import Linalg
import NN
import Synchronization
import XCTest

/// The in-process process group: every rank ends with the sum in rank order, bit for bit.
final class ThreadProcessGroupTests: XCTestCase {
    func testAllreduceSumsInRankOrderOnEveryRank() throws {
        for (size, count) in [(3, 1000), (2, 1), (3, 2), (4, 37)] {
            let group = ThreadProcessGroup(size: size)
            var inputs: [[Float]] = []
            var rng = Xoshiro256(seed: UInt64(size * 100 + count))
            for _ in 0..<size { inputs.append((0..<count).map { _ in rng.nextFloat() * 2 - 1 }) }
            // The expected sum, in rank order: ((b0 + b1) + b2) + ...
            let expected = (0..<count).map { i in inputs.dropFirst().reduce(inputs[0][i]) { $0 + $1[i] } }
            let results = Mutex<[Int: [Float]]>([:])
            let done = DispatchGroup()
            for rank in 0..<size {
                done.enter()
                let mine = inputs[rank]
                Thread {
                    var buffer = mine
                    var extra: [Double] = [Double(rank), 1]
                    let member = group.member(rank)
                    try? buffer.withUnsafeMutableBufferPointer { try member.allreduceSum($0) }
                    try? extra.withUnsafeMutableBufferPointer { try member.allreduceSum($0) }
                    try? member.barrier()
                    XCTAssertEqual(extra, [Double(size * (size - 1) / 2), Double(size)])
                    results.withLock { $0[rank] = buffer }
                    done.leave()
                }.start()
            }
            XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "allreduce of \(size) threads hung")
            for rank in 0..<size {
                XCTAssertEqual(results.withLock { $0[rank] }?.map(\.bitPattern), expected.map(\.bitPattern),
                               "size \(size), count \(count), rank \(rank)")
            }
        }
    }
}
