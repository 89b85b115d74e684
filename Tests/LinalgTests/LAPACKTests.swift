import XCTest
import Linalg

final class LAPACKTests: XCTestCase {
    /// Symmetric `n x n`: B + Bᵀ.
    func symmetric(_ n: Int, seed: UInt64) -> Matrix {
        let b = randomMatrix(n, n, seed: seed)
        var s = Matrix(rows: n, cols: n)
        Matrix.add(b, b.transposed(), into: &s)
        return s
    }

    /// Symmetric positive definite `n x n`: Bᵀ B + n I.
    func spd(_ n: Int, seed: UInt64) -> Matrix {
        let b = randomMatrix(n, n, seed: seed)
        var s = matmul(b, b, transposeA: true)
        for i in 0..<n { s[i, i] += Float(n) }
        return s
    }

    func frobenius(_ m: [Double]) -> Double { m.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    func testFloatEigenReconstructs() throws {
        for n in [1, 2, 7, 16] {
            let a = symmetric(n, seed: UInt64(n))
            let (values, v) = try symmetricEigen(a)
            XCTAssertEqual(values, values.sorted(), "ascending")
            var vd = v
            for i in 0..<n { for j in 0..<n { vd[i, j] *= values[j] } }
            let recon = matmul(vd, v, transposeB: true)           // V diag(λ) Vᵀ
            let diff = zip(recon.elements, a.elements).map { Double($0 - $1) }
            let rel = frobenius(diff) / frobenius(a.elements.map(Double.init))
            XCTAssertLessThan(rel, 1e-5, "n=\(n)")
            let vtv = matmul(v, v, transposeA: true)
            let orth = zip(vtv.elements, Matrix.identity(n).elements).map { Double($0 - $1) }
            XCTAssertLessThan(frobenius(orth), 1e-5, "V orthogonal, n=\(n)")
        }
        XCTAssertEqual(try symmetricEigen(a0()).values, [])
    }

    func a0() -> Matrix { Matrix(rows: 0, cols: 0) }

    func testEigenvaluesClosedForm() throws {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, -1)/√2 and (1, 1)/√2.
        let (values, v) = try symmetricEigen(Matrix([[2, 1], [1, 2]]))
        XCTAssertEqual(values[0], 1, accuracy: 1e-6)
        XCTAssertEqual(values[1], 3, accuracy: 1e-6)
        XCTAssertEqual(abs(v[0, 1]), Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(v[0, 1] * v[1, 1], 0.5, accuracy: 1e-6, "same sign in the λ=3 vector")
        XCTAssertEqual(v[0, 0] * v[1, 0], -0.5, accuracy: 1e-6, "opposite signs in the λ=1 vector")
        // Only the lower triangle is read: garbage above the diagonal is ignored.
        let lowerOnly = try symmetricEigen(Matrix([[2, 99], [1, 2]])).values
        XCTAssertEqual(lowerOnly[1], 3, accuracy: 1e-6)
    }

    func testDoubleEigenReconstructs() throws {
        let n = 12
        let a = DoubleMatrix(symmetric(n, seed: 77))
        let (values, v) = try symmetricEigen(a)
        var vd = v
        for i in 0..<n { for j in 0..<n { vd[i, j] *= values[j] } }
        let recon = matmul(vd, v, transposeB: true)
        let rel = frobenius(zip(recon.elements, a.elements).map { $0 - $1 }) / frobenius(a.elements)
        XCTAssertLessThan(rel, 1e-12)
        let onlyValues = try symmetricEigenvalues(a)
        for (x, y) in zip(onlyValues, values) { XCTAssertEqual(x, y, accuracy: 1e-10) }
    }

    func testEigenRejectsNaN() {
        XCTAssertThrowsError(try symmetricEigen(Matrix([[1, .nan], [.nan, 1]]))) { error in
            XCTAssertEqual(error as? LAPACKError, .nonFiniteInput(routine: "ssyevd"))
        }
    }

    func testCholesky() throws {
        let a = spd(6, seed: 5)
        let l = try cholesky(a)
        for i in 0..<6 { for j in (i + 1)..<6 { XCTAssertEqual(l[i, j], 0, "L is lower triangular") } }
        assertClose(matmul(l, l, transposeB: true), nested(a), tol: 1e-5, "L Lᵀ = A")

        let ad = DoubleMatrix(a)
        let ld = try cholesky(ad)
        let recon = matmul(ld, ld, transposeB: true)
        for (x, y) in zip(recon.elements, ad.elements) { XCTAssertEqual(x, y, accuracy: 1e-10) }
        // By hand: [[4, 2], [2, 5]] = L Lᵀ with L = [[2, 0], [1, 2]].
        XCTAssertEqual(try cholesky(DoubleMatrix([[4, 2], [2, 5]])), DoubleMatrix([[2, 0], [1, 2]]))
    }

    func testCholeskyOfNonPositiveDefiniteThrowsTypedError() {
        // [[1, 2], [2, 1]] has eigenvalues 3 and -1: the order-2 minor (det = -3) fails.
        XCTAssertThrowsError(try cholesky(Matrix([[1, 2], [2, 1]]))) { error in
            XCTAssertEqual(error as? LAPACKError, .notPositiveDefinite(routine: "spotrf", order: 2))
        }
        XCTAssertThrowsError(try cholesky(DoubleMatrix([[-1, 0], [0, 1]]))) { error in
            XCTAssertEqual(error as? LAPACKError, .notPositiveDefinite(routine: "dpotrf", order: 1))
            XCTAssertTrue("\(error)".contains("dpotrf"))
        }
    }

    func testSolve() throws {
        let n = 8
        var a = randomMatrix(n, n, seed: 50)
        for i in 0..<n { a[i, i] += 4 }   // well conditioned
        let b = randomMatrix(n, 3, seed: 51)
        let x = try solve(a, b)
        assertClose(matmul(a, x), nested(b), tol: 1e-5, "A X = B")
        // By hand: 2x + y = 3, x + 3y = 5  =>  x = 4/5, y = 7/5.
        let small = try solve(Matrix([[2, 1], [1, 3]]), Matrix([[3], [5]]))
        XCTAssertEqual(small[0, 0], 0.8, accuracy: 1e-6)
        XCTAssertEqual(small[1, 0], 1.4, accuracy: 1e-6)
    }

    func testSolveSingularThrowsTypedError() {
        XCTAssertThrowsError(try solve(Matrix([[1, 2], [2, 4]]), Matrix([[1], [1]]))) { error in
            XCTAssertEqual(error as? LAPACKError, .singular(routine: "sgesv", index: 2))
        }
    }

    // MARK: - Tr(sqrt(S1 S2))

    func testTraceSqrtCommutingDiagonal() throws {
        // Diagonal matrices commute: Tr sqrt(S1 S2) = Σ sqrt(a_i b_i).
        let a = [4.0, 1.0, 9.0, 0.0], b = [1.0, 16.0, 4.0, 5.0]
        let t = try traceSqrtProduct(.diagonal(a), .diagonal(b))
        XCTAssertEqual(t, 2 + 4 + 6 + 0, accuracy: 1e-10)
    }

    func testTraceSqrtCommutingRotated() throws {
        // S1 = Q diag(a) Qᵀ, S2 = Q diag(b) Qᵀ share eigenvectors, so the result is Σ sqrt(a_i b_i).
        // Q is the Householder reflection I - 2 u uᵀ with u = (1, 2, 2)/3 (orthogonal, symmetric).
        let u = [1.0 / 3, 2.0 / 3, 2.0 / 3]
        var q = DoubleMatrix.identity(3)
        for i in 0..<3 { for j in 0..<3 { q[i, j] -= 2 * u[i] * u[j] } }
        func conj(_ d: [Double]) -> DoubleMatrix { matmul(matmul(q, .diagonal(d)), q, transposeB: true) }
        let t = try traceSqrtProduct(conj([2, 3, 5]), conj([8, 12, 0.2]))
        XCTAssertEqual(t, 4 + 6 + 1, accuracy: 1e-10)
    }

    func testTraceSqrtOfEqualMatricesIsTrace() throws {
        // Tr sqrt(S S) = Tr S for PSD S.
        let s = DoubleMatrix(spd(9, seed: 60))
        XCTAssertEqual(try traceSqrtProduct(s, s), s.trace(), accuracy: 1e-9 * s.trace())
        // Scaling: Tr sqrt(c S S) = sqrt(c) Tr S.
        var s4 = s
        s4.elements = s.elements.map { 4 * $0 }
        XCTAssertEqual(try traceSqrtProduct(s4, s), 2 * s.trace(), accuracy: 1e-9 * s.trace())
    }

    func testTraceSqrtNonCommuting2x2ClosedForm() throws {
        // For 2x2, S1 S2 has eigenvalues μ1, μ2 >= 0, and
        // (√μ1 + √μ2)² = tr(S1 S2) + 2 √(det S1 det S2).
        let s1 = DoubleMatrix([[2, 1], [1, 3]]), s2 = DoubleMatrix([[1, -0.5], [-0.5, 4]])
        let trProduct = 13.0          // Σ_ij s1_ij s2_ji = 2·1 + 1·(-0.5) + 1·(-0.5) + 3·4
        let det1 = 5.0, det2 = 3.75   // 2·3 - 1·1 and 1·4 - 0.5·0.5
        let expected = (trProduct + 2 * (det1 * det2).squareRoot()).squareRoot()
        XCTAssertEqual(try traceSqrtProduct(s1, s2), expected, accuracy: 1e-12)
        XCTAssertEqual(try traceSqrtProduct(s2, s1), expected, accuracy: 1e-12, "symmetric in S1, S2")
    }

    func testTraceSqrtRejectsNaN() {
        XCTAssertThrowsError(try traceSqrtProduct(.diagonal([1, .nan]), .identity(2))) { error in
            XCTAssertEqual(error as? LAPACKError, .nonFiniteInput(routine: "dsyevd"))
        }
    }
}
