import Foundation
import XCTest
import Linalg
@testable import NN

/// KL between diagonal Gaussians with a learned prior: value by the textbook formula in Double,
/// gradients by finite differences, and the N(0, I) special case.
final class GaussianKLTests: XCTestCase {
    /// Σ KL(N(m, e^l) || N(pm, e^pl)) / rows, in Double, from the densities' closed form.
    private func reference(_ v: [Double], n: Int, rows: Int) -> Double {
        var total = 0.0
        for i in 0..<n {
            let m = v[i], l = v[n + i], pm = v[2 * n + i], pl = v[3 * n + i]
            // log(σp/σq) + (σq² + (μq - μp)²) / (2σp²) - ½
            total += 0.5 * (pl - l) + (exp(l) + (m - pm) * (m - pm)) / (2 * exp(pl)) - 0.5
        }
        return total / Double(rows)
    }

    func testValueAndGradientsMatchFiniteDifferences() {
        let rows = 3, cols = 4, n = rows * cols
        let mats = (0..<4).map { randomMatrix(rows, cols, low: -1.5, high: 1.5, seed: 20 + UInt64($0)) }
        var g = GaussianKLGradients()
        let kl = Loss.gaussianKL(mu: mats[0], logvar: mats[1], priorMu: mats[2], priorLogvar: mats[3],
                                 reduction: .batchMean, gradients: &g)
        let v = mats.flatMap(doubles)
        XCTAssertEqual(Double(kl), reference(v, n: n, rows: rows), accuracy: 1e-5 * abs(reference(v, n: n, rows: rows)))
        let numerical = numericalGradient(v) { reference($0, n: n, rows: rows) }
        let analytic = doubles(g.mu) + doubles(g.logvar) + doubles(g.priorMu) + doubles(g.priorLogvar)
        assertClose(analytic, numerical, atol: 1e-5, rtol: 1e-4, "∂KL")
    }

    func testStandardNormalPriorIsTheVAEKL() {
        let mu = randomMatrix(5, 3, seed: 30), logvar = randomMatrix(5, 3, seed: 31)
        let zero = Matrix(rows: 5, cols: 3)
        var g = GaussianKLGradients()
        var gm = Matrix.empty, gl = Matrix.empty
        let a = Loss.gaussianKL(mu: mu, logvar: logvar, priorMu: zero, priorLogvar: zero, reduction: .batchMean, gradients: &g)
        let b = Loss.gaussianKL(mu: mu, logvar: logvar, reduction: .batchMean, gradientMu: &gm, gradientLogvar: &gl)
        XCTAssertEqual(a, b, accuracy: 1e-5)
        assertClose(doubles(g.mu), doubles(gm), atol: 1e-6, rtol: 1e-5, "∂/∂mu")
        assertClose(doubles(g.logvar), doubles(gl), atol: 1e-6, rtol: 1e-5, "∂/∂logvar")
    }
}

extension GaussianKLTests {
    /// The Gaussian decoder's NLL: value from the density written out, gradient by central
    /// differences, over `[mean | logvar]` rows.
    func testGaussianNLLValueAndGradient() {
        let rows = 3, d = 2
        let out = randomMatrix(rows, 2 * d, low: -1, high: 1, seed: 40), x = randomMatrix(rows, d, seed: 41)
        func nll(_ v: [Double]) -> Double {
            var total = 0.0
            for r in 0..<rows { for j in 0..<d {
                let mean = v[r * 2 * d + j], lv = v[r * 2 * d + d + j], sd = exp(lv / 2)
                let z = (Double(x[r, j]) - mean) / sd
                total -= log(exp(-z * z / 2) / (sd * (2 * Double.pi).squareRoot()))   // -log N(x; mean, sd²)
            } }
            return total / Double(rows)
        }
        var g = Matrix.empty
        let value = Loss.gaussianNLL(output: out, targets: x, reduction: .batchMean, gradient: &g)
        XCTAssertEqual(Double(value), nll(doubles(out)), accuracy: 1e-5)
        assertClose(doubles(g), numericalGradient(doubles(out), nll), atol: 1e-5, rtol: 1e-4, "∂NLL/∂[mean | logvar]")
    }
}
