import XCTest
@testable import Linalg

/// The general gemm on our kernel (`OwnKernelGEMM`, used where OpenBLAS runs narrower
/// kernels): every transpose combination and beta 0 / 1 against a double-precision product,
/// at widths that are not whole panels and over more than one 512-column block.
final class OwnKernelGEMMTests: XCTestCase {
    func testMatchesADoubleProductForEveryTranspose() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: our kernel does not run")
        let m = 19, k = 37
        for n in [16, 45, 1_100] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for beta: Float in [0, 1] {
                        let label = "n \(n) transA \(transA) transB \(transB) beta \(beta)"
                        let a = randomMatrix(transA ? k : m, transA ? m : k, seed: 1)
                        let b = randomMatrix(transB ? n : k, transB ? k : n, seed: 2)
                        let c0 = randomMatrix(m, n, seed: 3)
                        var c = c0
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                c.withUnsafeMutableBufferPointer { pc in
                                    OwnKernelGEMM.run(GEMMCall(
                                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: beta,
                                        a: pa.baseAddress!, lda: a.cols, b: pb.baseAddress!, ldb: b.cols,
                                        c: pc.baseAddress!, ldc: n))
                                }
                            }
                        }
                        var worst = 0.0
                        for i in 0..<m {
                            for j in 0..<n {
                                var s = beta == 1 ? Double(c0[i, j]) : 0
                                for p in 0..<k {
                                    s += Double(transA ? a[p, i] : a[i, p]) * Double(transB ? b[j, p] : b[p, j])
                                }
                                worst = max(worst, abs(Double(c[i, j]) - s))
                            }
                        }
                        XCTAssertLessThan(worst, 1e-4, label)
                    }
                }
            }
        }
    }

    /// What stays on OpenBLAS: alpha other than 1, beta other than 0 or 1, fewer than 16
    /// columns, a `Bᵀ` stored with padding; and every call where OpenBLAS's kernels are not
    /// narrower than ours.
    func testAppliesOnlyToWhatItRuns() {
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { x.deallocate() }
        func call(alpha: Float = 1, beta: Float = 0, n: Int = 64, transB: Bool = false, ldb: Int = 32) -> GEMMCall {
            GEMMCall(transA: false, transB: transB, m: 8, n: n, k: 32, alpha: alpha, beta: beta,
                     a: x, lda: 32, b: x, ldb: ldb, c: x, ldc: n)
        }
        let narrower = OpenBLASCore.isNarrowerThanOurs
        XCTAssertEqual(OwnKernelGEMM.applies(to: call()), narrower, OpenBLASCore.name)
        XCTAssertEqual(OwnKernelGEMM.applies(to: call(beta: 1, transB: true)), narrower)
        XCTAssertFalse(OwnKernelGEMM.applies(to: call(alpha: 2)))
        XCTAssertFalse(OwnKernelGEMM.applies(to: call(beta: 0.5)))
        XCTAssertFalse(OwnKernelGEMM.applies(to: call(n: 15)))
        XCTAssertFalse(OwnKernelGEMM.applies(to: call(transB: true, ldb: 40)))
    }
}
