/// `Tr(sqrt(S1 S2))` for symmetric positive semi-definite `n x n` matrices `S1`, `S2`: the
/// cross term of the Fréchet distance between two Gaussians,
/// `d² = |μ1 - μ2|² + Tr(S1) + Tr(S2) - 2 Tr(sqrt(S1 S2))`
/// (Dowson & Landau 1982, "The Fréchet distance between multivariate normal distributions";
/// used as FID by Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to
/// a local Nash equilibrium").
///
/// Method, all in double precision with eigen-decompositions (`dsyevd`) and `cblas_dgemm`:
/// 1. `S1 = V diag(λ) Vᵀ`; `sqrt(S1) = V diag(sqrt(max(λ, 0))) Vᵀ` (negative λ are round-off
///    of a PSD matrix and are clamped to 0).
/// 2. `S1 S2 = sqrt(S1) (sqrt(S1) S2)` is similar to the symmetric PSD
///    `M = sqrt(S1) S2 sqrt(S1)`, so `S1 S2` has M's eigenvalues `μ ≥ 0` and
///    `Tr(sqrt(S1 S2)) = Σ sqrt(max(μ, 0))`.
///    With `W = V diag(sqrt(max(λ, 0)))`, `M = W Wᵀ S2 W Wᵀ = V (Wᵀ S2 W) Vᵀ`, so M and the
///    symmetric `Wᵀ S2 W` have the same eigenvalues (V is orthogonal); the code computes the
///    latter, two gemms instead of three. It is symmetrised, `(M + Mᵀ)/2`, before `dsyevd`.
/// Unlike `scipy.linalg.sqrtm` on the non-symmetric `S1 S2`, this never produces complex parts.
///
/// - Returns: `Tr(sqrt(S1 S2))`, in the units of the covariances (e.g. feature units²).
/// - Throws: `LAPACKError` from `dsyevd` (`.nonFiniteInput` for NaN/inf, `.noConvergence`).
/// - Precondition: `s1` and `s2` are square and of the same size.
public func traceSqrtProduct(_ s1: DoubleMatrix, _ s2: DoubleMatrix) throws(LAPACKError) -> Double {
    precondition(s1.rows == s1.cols && s2.rows == s2.cols && s1.rows == s2.rows,
                 "traceSqrtProduct: S1 is \(s1.rows)x\(s1.cols), S2 is \(s2.rows)x\(s2.cols)")
    let n = s1.rows
    if n == 0 { return 0 }
    let (lambda, v) = try symmetricEigen(s1)
    // W = V diag(sqrt(max(λ, 0))): scale column j of V.
    var w = v
    for j in 0..<n {
        let s = Swift.max(lambda[j], 0).squareRoot()
        for i in 0..<n { w.elements[i * n + j] *= s }
    }
    let s2w = matmul(s2, w)                       // S2 W
    var m = matmul(w, s2w, transposeA: true)      // Wᵀ S2 W
    for i in 0..<n {
        for j in 0..<i {
            let avg = 0.5 * (m.elements[i * n + j] + m.elements[j * n + i])
            m.elements[i * n + j] = avg
            m.elements[j * n + i] = avg
        }
    }
    let mu = try symmetricEigenvalues(m)
    var total = 0.0
    for x in mu { total += Swift.max(x, 0).squareRoot() }
    return total
}
