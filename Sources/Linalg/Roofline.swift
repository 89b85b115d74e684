import Foundation

/// The machine's sgemm roofline under the current `BLASThreads` setting: GFLOP/s of `gemm` on
/// `n x n` by `n x n` uniform matrices (`2 n³` flops per product), the best of `repetitions`
/// timings of 4 products each, after one untimed warm-up product.
/// - Precondition: `n >= 1`, `repetitions >= 1`.
public func measureSgemmGFLOPS(n: Int = 1024, repetitions: Int = 5) -> Double {
    precondition(n >= 1 && repetitions >= 1, "measureSgemmGFLOPS: n \(n), repetitions \(repetitions)")
    var rng = Xoshiro256(seed: 1)
    let a = Matrix.uniform(rows: n, cols: n, using: &rng)
    let b = Matrix.uniform(rows: n, cols: n, using: &rng)
    var c = Matrix(rows: n, cols: n)
    gemm(a, b, into: &c)
    var best = 0.0
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<4 { gemm(a, b, into: &c) }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = max(best, 4 * 2 * Double(n) * Double(n) * Double(n) / secs / 1e9)
    }
    return best
}
