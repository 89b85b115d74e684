import Foundation
import Linalg
import NN
import Synchronization
import XCTest

/// The allreduce hook over threads of one process scales, sums and checks in one pass: the
/// values must be the bits of "scale each rank's gradients by its share, add in rank order",
/// and every rank must see the same verdict on non-finite values, call after call.
final class WeightedAllreduceTests: XCTestCase {
    /// Runs `body(rank, member)` on `size` threads at once; fails the test if they hang.
    private func onThreads(_ size: Int, _ body: @escaping @Sendable (Int, any ProcessGroup) -> Void) {
        let group = ThreadProcessGroup(size: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            Thread {
                body(rank, group.member(rank))
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "\(size) threads hung")
    }

    /// A group of two parameters (`a` 1 x 3, `b` rows x 5) holding `values` as gradients.
    private static func group(_ values: [Float]) -> ParameterGroup {
        let rows = (values.count - 3) / 5
        let a = Parameter(name: "a", value: Matrix(rows: 1, cols: 3))
        let b = Parameter(name: "b", value: Matrix(rows: rows, cols: 5))
        let g = ParameterGroup([(name: "a", parameter: a), (name: "b", parameter: b)])
        g.withMutableGradients { buffer in for i in buffer.indices { buffer[i] = values[i] } }
        return g
    }

    func testScaledSumIsTheBitsOfScaleThenAllreduce() {
        // (ranks, global batch): uneven shares (e.g. 7 rows over 3 ranks: 3, 2, 2), even ones,
        // and nil (the whole batch: weight 1).
        for (size, globalRows) in [(2, 128), (3, 7), (2, 5), (4, 9), (2, nil), (3, nil)] as [(Int, Int?)] {
            let count = 3 + 5 * 41
            var rng = Xoshiro256(seed: UInt64(size * 31 + (globalRows ?? 0)))
            let special: [Float] = [-0.0, 0, .leastNonzeroMagnitude, -.leastNormalMagnitude / 3,
                                    .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, 1]
            let inputs = (0..<size).map { r in
                (0..<count).map { i in i % 23 == r ? special[(i / 23 + r) % special.count] : rng.nextFloat() * 8 - 4 }
            }
            let shard: @Sendable (Int) -> RowShard? = { r in globalRows.map { RowShard(rank: r, of: size, globalRows: $0) } }
            // The path it replaces: sscal by the share (when partial), then the plain allreduce.
            let expected = Mutex<[Int: [Float]]>([:]), results = Mutex<[Int: [Float]]>([:])
            onThreads(size) { rank, member in
                let g = Self.group(inputs[rank])
                if let s = shard(rank), s.rows.count != s.globalRows { g.scaleGradients(by: s.weight) }
                do { try g.withMutableGradients { try member.allreduceSum($0) } } catch { XCTFail("\(error)") }
                expected.withLock { $0[rank] = g.gradients.elements }
            }
            onThreads(size) { rank, member in
                let g = Self.group(inputs[rank])
                g.shard = shard(rank)
                _ = try? GradientHook.allreduce(member).body(g)
                results.withLock { $0[rank] = g.gradients.elements }
            }
            let want = expected.withLock { $0[0] }!
            XCTAssertTrue(want.contains { !$0.isFinite }, "the inputs reach inf")
            for rank in 0..<size {
                let got = results.withLock { $0[rank] }!
                // NaN payloads may differ; every other value must be the same bits.
                XCTAssertEqual(got.map { $0.isNaN ? UInt32.max : $0.bitPattern }, want.map { $0.isNaN ? UInt32.max : $0.bitPattern },
                               "size \(size), global rows \(String(describing: globalRows)), rank \(rank)")
            }
        }
    }

    func testEveryRankSeesTheSameNonFiniteVerdictCallAfterCall() {
        let size = 3, count = 3 + 5 * 20, calls = 300
        // Call c puts a NaN or inf into rank (c % size)'s buffer in another rank's chunk, on
        // two calls out of three: each rank checks only its own chunk, so the verdict must
        // travel, and must not leak into the next call.
        let poison: @Sendable (Int) -> (rank: Int, index: Int, value: Float)? = { c in
            guard c % 3 != 0 else { return nil }
            let victim = c % size, owner = (victim + 1 + (c / 3) % (size - 1)) % size
            let chunk = RowShard(rank: owner, of: size, globalRows: count).rows
            let index = chunk.lowerBound + c % chunk.count
            return (victim, index, c % 2 == 0 ? .nan : -.infinity)
        }
        let verdicts = Mutex<[Int: [String?]]>([:])
        onThreads(size) { rank, member in
            let hook = GradientHook.allreduce(member, checkingFinite: true)
            var mine: [String?] = []
            for c in 0..<calls {
                var values = [Float](repeating: 0.25, count: count)
                if let p = poison(c), p.rank == rank { values[p.index] = p.value }
                let g = Self.group(values)
                do { try hook.body(g); mine.append(nil) } catch let e as NonFiniteGradientError {
                    mine.append(e.parameter)
                } catch { mine.append("unexpected \(error)") }
            }
            verdicts.withLock { $0[rank] = mine }
        }
        let expected: [String?] = (0..<calls).map { c in poison(c).map { $0.index < 3 ? "a" : "b" } }
        for rank in 0..<size {
            XCTAssertEqual(verdicts.withLock { $0[rank] }, expected, "rank \(rank)")
        }
    }

    func testDistributingFoldsALeadingNonFiniteCheckIntoTheAllreduce() {
        let group = ThreadProcessGroup(size: 1).member(0)
        let clip = GradientHook.clipNorm(1)
        XCTAssertEqual(GradientHook.distributing([.nonFiniteCheck, clip], over: group).map(\.name),
                       ["allreduce + non-finite check", clip.name])
        XCTAssertEqual(GradientHook.distributing([clip, .nonFiniteCheck], over: group).map(\.name),
                       ["allreduce", clip.name, "non-finite check"])
        XCTAssertEqual(GradientHook.distributing([], over: group).map(\.name), ["allreduce"])
        // Alone, the folded hook is still the check: it names the non-finite parameter.
        let g = Self.group([0, 1, 2] + [Float](repeating: 0, count: 4) + [.infinity] + [Float](repeating: 0, count: 2))
        XCTAssertThrowsError(try GradientHook.distributing([.nonFiniteCheck], over: group)[0].body(g)) { error in
            XCTAssertEqual((error as? NonFiniteGradientError)?.parameter, "b")
        }
    }
}
