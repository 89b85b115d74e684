import COpenBLAS
import Foundation
import Linalg

/// Monotonic time in seconds.
@inline(__always)
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    if s.isEmpty { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

/// Measured figures for one shape.
struct Result {
    let shape: Shape
    let iterations: Int
    let matrixGflops: [Double]   // one per repetition
    let cblasGflops: [Double]
    var matrixMedian: Double { median(matrixGflops) }
    var cblasMedian: Double { median(cblasGflops) }
    /// Median of the per-repetition ratios Matrix / cblas (each pair timed back to back, so
    /// machine drift between repetitions cancels).
    var ratio: Double { median(zip(matrixGflops, cblasGflops).map { $0 / $1 }) }
    /// Median time of one call, in nanoseconds.
    var matrixNanosPerCall: Double { shape.flops / matrixMedian }
    var cblasNanosPerCall: Double { shape.flops / cblasMedian }
}

/// Operands for one shape: A, B as `Matrix`, a preallocated `Matrix` C for the wrapper, and a
/// separate 64-byte aligned raw C for the direct cblas call (so the two never share a buffer).
final class Operands {
    let shape: Shape
    let a: Matrix, b: Matrix
    var c: Matrix
    let rawC: UnsafeMutablePointer<Float>

    init(_ shape: Shape, rng: inout Xoshiro256) {
        self.shape = shape
        a = Matrix.uniform(rows: shape.aShape.0, cols: shape.aShape.1, low: -1, high: 1, using: &rng)
        b = Matrix.uniform(rows: shape.bShape.0, cols: shape.bShape.1, low: -1, high: 1, using: &rng)
        c = Matrix(rows: shape.m, cols: shape.n)
        var raw: UnsafeMutableRawPointer?
        precondition(posix_memalign(&raw, 64, Swift.max(1, shape.m * shape.n) * 4) == 0 && raw != nil)
        rawC = raw!.bindMemory(to: Float.self, capacity: Swift.max(1, shape.m * shape.n))
        rawC.initialize(repeating: 0, count: shape.m * shape.n)
    }

    deinit { free(rawC) }

    /// `iterations` calls of `Linalg.gemm` into the preallocated C; returns seconds.
    func timeMatrix(_ iterations: Int) -> Double {
        let t0 = now()
        for _ in 0..<iterations {
            gemm(a, b, into: &c, transposeA: shape.transposeA, transposeB: shape.transposeB)
        }
        return now() - t0
    }

    /// `iterations` direct `cblas_sgemm` calls on raw pointers taken once; returns seconds.
    func timeCBLAS(_ iterations: Int) -> Double {
        let s = shape
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let ta = s.transposeA ? CblasTrans : CblasNoTrans
                let tb = s.transposeB ? CblasTrans : CblasNoTrans
                let lda = blasint(s.aShape.1), ldb = blasint(s.bShape.1)
                let t0 = now()
                for _ in 0..<iterations {
                    cblas_sgemm(CblasRowMajor, ta, tb, blasint(s.m), blasint(s.n), blasint(s.k),
                                1, pa.baseAddress, lda, pb.baseAddress, ldb,
                                0, rawC, blasint(s.n))
                }
                return now() - t0
            }
        }
    }

    /// Largest absolute difference between the two C buffers (both must hold op(A) op(B)).
    func maxDifference() -> Float {
        c.withUnsafeBufferPointer { pc in
            var d: Float = 0
            for i in 0..<pc.count { d = Swift.max(d, abs(pc[i] - rawC[i])) }
            return d
        }
    }
}

/// Times one shape: calibrates the iteration count so one repetition takes at least
/// `minSeconds`, then alternates Matrix and cblas (A B A B ...) `repetitions` times.
/// With `fixedIterations`, skips calibration and runs exactly that many calls per repetition.
func measure(_ shape: Shape, repetitions: Int, minSeconds: Double, fixedIterations: Int? = nil,
             rng: inout Xoshiro256) -> Result {
    let ops = Operands(shape, rng: &rng)
    _ = ops.timeMatrix(1)   // warm-up: page in operands, start BLAS threads
    _ = ops.timeCBLAS(1)
    var iterations = fixedIterations ?? 1
    while fixedIterations == nil {
        let t = ops.timeMatrix(iterations)
        if t >= minSeconds { break }
        // Aim 20% past the target from the measured rate; at least double when t was tiny.
        let estimate = Double(iterations) * minSeconds * 1.2 / Swift.max(t, 1e-9)
        iterations = Swift.max(iterations * 2, Int(estimate.rounded(.up)))
    }
    // Each repetition interleaves the two in up to 8 blocks (A B B A A B ... within the
    // repetition too), so both see the same load when other processes come and go.
    let blocks = Swift.min(8, iterations)
    let perBlock = iterations / blocks
    let done = perBlock * blocks
    var mg: [Double] = [], cg: [Double] = []
    for _ in 0..<repetitions {
        var tm = 0.0, tc = 0.0
        for block in 0..<blocks {
            // A B, B A, A B, ...: neither side always runs first after the other.
            if block % 2 == 0 {
                tm += ops.timeMatrix(perBlock)
                tc += ops.timeCBLAS(perBlock)
            } else {
                tc += ops.timeCBLAS(perBlock)
                tm += ops.timeMatrix(perBlock)
            }
        }
        mg.append(shape.flops * Double(done) / tm / 1e9)
        cg.append(shape.flops * Double(done) / tc / 1e9)
    }
    let diff = ops.maxDifference()
    precondition(diff <= 1e-3 * Float(shape.k), "gemm-bench: Matrix and cblas results differ by \(diff)")
    return Result(shape: shape, iterations: done, matrixGflops: mg, cblasGflops: cg)
}
