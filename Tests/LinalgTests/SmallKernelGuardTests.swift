import COpenBLAS
import XCTest
@testable import Linalg

/// The AVX-512 small-kernel guard's split (gemm over whole 16s of columns + one sgemv per other
/// column) computes the same product as one sgemm, including strided operands, alpha and beta.
/// (Whether it engages depends on the CPU; the split itself runs on any.)
final class SmallKernelGuardTests: XCTestCase {
    func testSplitEqualsOneGemm() {
        var rng = Xoshiro256(seed: 11)
        for (m, n, k) in [(64, 1, 128), (64, 20, 400), (7, 8, 33), (5, 33, 40), (3, 17, 64), (9, 16, 32), (4, 3, 16)] {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (2, -0.5)] {
                // Operands inside wider buffers (lda, ldb, ldc larger than the rows used).
                let (lda, ldb, ldc) = (k + 3, n + 5, n + 2)
                let a = (0..<(m * lda)).map { _ in rng.nextFloat() * 2 - 1 }
                let b = (0..<(k * ldb)).map { _ in rng.nextFloat() * 2 - 1 }
                let c0 = (0..<(m * ldc)).map { _ in rng.nextFloat() * 2 - 1 }
                var expected = c0, split = c0
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        expected.withUnsafeMutableBufferPointer { pc in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(n), blasint(k),
                                        alpha, pa.baseAddress, blasint(lda), pb.baseAddress, blasint(ldb), beta,
                                        pc.baseAddress, blasint(ldc))
                        }
                        split.withUnsafeMutableBufferPointer { pc in
                            let call = GEMMCall(transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, beta: beta,
                                                a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                c: pc.baseAddress!, ldc: ldc)
                            XCTAssertEqual(SmallKernelGuard.applies(to: call), (1...8).contains(n % 16) && k >= 32, "n \(n), k \(k)")
                            SmallKernelGuard.runSplit(call)
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<ldc {
                        let (e, s) = (expected[i * ldc + j], split[i * ldc + j])
                        if j >= n { XCTAssertEqual(s, c0[i * ldc + j], "padding column changed"); continue }
                        XCTAssertEqual(s, e, accuracy: 1e-5 * Swift.max(1, abs(e)), "\(m)x\(n)x\(k) alpha \(alpha) beta \(beta) [\(i), \(j)]")
                    }
                }
            }
        }
    }

    /// Only NoTrans/NoTrans products reach the allocating NN kernel.
    func testOnlyNoTransProductsAreSplit() {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { p.deallocate() }
        for (ta, tb) in [(true, false), (false, true), (true, true)] {
            let call = GEMMCall(transA: ta, transB: tb, m: 4, n: 1, k: 64, alpha: 1, beta: 0,
                                a: p, lda: 64, b: p, ldb: 1, c: p, ldc: 1)
            XCTAssertFalse(SmallKernelGuard.applies(to: call))
        }
    }
}
