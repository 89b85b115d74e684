import Foundation
import Generative
import Linalg
import NN
import XCTest

/// Mode coverage, nearest neighbours and the IWAE bound against independent computations.
final class MetricsTests: XCTestCase {
    func testModeCoverageByHand() {
        let c = ModeCoverage(predictions: [0, 0, 1, 1], classes: 10)
        XCTAssertEqual(c.histogram, [2, 2, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(c.classesCovered, 2)
        XCTAssertEqual(c.klFromUniform, log(5.0), accuracy: 1e-12)   // 2 · 0.5 log(0.5 · 10)
        XCTAssertTrue(c.isModeCollapse)
        let u = ModeCoverage(histogram: [100, 100, 100])
        XCTAssertEqual(u.classesCovered, 3)
        XCTAssertEqual(u.klFromUniform, 0, accuracy: 1e-12)
        XCTAssertFalse(u.isModeCollapse)
        // 1% threshold: 1 of 200 is 0.5%, not covered; 2 of 200 is.
        let t = ModeCoverage(histogram: [197, 1, 2])
        XCTAssertEqual(t.classesCovered, 2)
    }

    func testNearestNeighboursMatchBruteForce() {
        var rng = Xoshiro256(seed: 5)
        let q = Matrix.uniform(rows: 37, cols: 9, using: &rng)
        var r = Matrix.uniform(rows: 53, cols: 9, using: &rng)
        for j in 0..<9 { r[20, j] = q[3, j] }   // an exact copy: distance 0
        let (dist, idx) = nearestNeighbours(queries: q, references: r, chunk: 8)
        for i in 0..<q.rows {
            var best = Double.infinity, bestJ = -1
            for j in 0..<r.rows {
                var s = 0.0
                for c in 0..<9 { let d = Double(q[i, c] - r[j, c]); s += d * d }
                if s < best { best = s; bestJ = j }
            }
            XCTAssertEqual(idx[i], bestJ, "query \(i)")
            XCTAssertEqual(Double(dist[i]), best.squareRoot(), accuracy: 2e-3)
        }
        XCTAssertEqual(idx[3], 20)
        XCTAssertEqual(dist[3], 0, accuracy: 2e-3)
    }

    func testQuantileMatchesNumpyLinear() {
        // numpy.quantile([4, 1, 3, 2], [0, 0.01, 0.5, 1]) = [1, 1.03, 2.5, 4]
        let v: [Float] = [4, 1, 3, 2]
        XCTAssertEqual(quantile(v, 0), 1)
        XCTAssertEqual(quantile(v, 0.01), 1.03, accuracy: 1e-12)
        XCTAssertEqual(quantile(v, 0.5), 2.5)
        XCTAssertEqual(quantile(v, 1), 4)
    }

    /// With a 1-D latent, log p(x) = log ∫ p(x|z) N(z; 0, 1) dz can be computed by quadrature;
    /// IWAE must approach it from above (in -log p) as k grows, and equal the ELBO at k = 1.
    func testIWAEApproachesQuadratureLogLikelihood() throws {
        var rng = Xoshiro256(seed: 11)
        var cfg = VAEConfig()
        cfg.dataDim = 5; cfg.hidden = [6]; cfg.latentDim = 1
        let vae = try VAE(config: cfg, rng: &rng)
        let x = Matrix([[0, 1, 0.5, 0.2, 1], [1, 1, 0, 0.9, 0]])
        // Quadrature: trapezoid on [-12, 12], log-sum-exp in Double.
        let m = 24001, h = 24.0 / Double(m - 1)
        var z = Matrix(rows: m, cols: 1)
        for i in 0..<m { z[i, 0] = Float(-12 + Double(i) * h) }
        let logits = vae.decoder.forward(z, training: false)
        var exact = 0.0
        for row in 0..<x.rows {
            var terms = [Double](repeating: 0, count: m)
            for i in 0..<m {
                var lp = 0.0
                for p in 0..<cfg.dataDim {
                    let l = Double(logits[i, p]), t = Double(x[row, p])
                    lp -= max(l, 0) - l * t + log1p(exp(-abs(l)))
                }
                let zz = Double(z[i, 0])
                let w = (i == 0 || i == m - 1) ? 0.5 : 1.0
                terms[i] = lp - 0.5 * zz * zz - 0.5 * log(2 * Double.pi) + log(w * h)
            }
            let mx = terms.max()!
            exact += -(mx + log(terms.reduce(0) { $0 + exp($1 - mx) }))
        }
        exact /= Double(x.rows)    // -log p(x), mean over rows

        var r = Xoshiro256(seed: 3)
        // Small k on 300 copies of each row, so the means are sharp (the bound holds in expectation).
        var copies: [[Float]] = []
        for _ in 0..<300 { for row in 0..<x.rows { copies.append((0..<cfg.dataDim).map { x[row, $0] }) } }
        let xs = Matrix(copies)
        let k1 = vae.importanceWeightedBound(xs, k: 1, chunk: 77, rng: &r)
        let k64 = vae.importanceWeightedBound(xs, k: 64, chunk: 1000, rng: &r)
        let kBig = vae.importanceWeightedBound(x, k: 20000, chunk: 4096, rng: &r)
        XCTAssertEqual(kBig.negativeBound, exact, accuracy: 0.01, "IWAE(20000) \(kBig.negativeBound) vs quadrature \(exact)")
        XCTAssertGreaterThanOrEqual(k64.negativeBound, exact - 3 * k64.standardError)
        XCTAssertGreaterThan(k1.negativeBound, k64.negativeBound)
        XCTAssertGreaterThan(k64.negativeBound, kBig.negativeBound - 0.01)
        XCTAssertLessThanOrEqual(kBig.negativeBound, kBig.negativeELBO)
        // -ELBO on 20000 draws per image is a sharp estimate: the bound's gap is KL(q || posterior) ≥ 0.
        XCTAssertGreaterThan(kBig.negativeELBO, exact)
        XCTAssertEqual(kBig.k, 20000)
        XCTAssertEqual(kBig.images, 2)
    }

    /// k = 1 is the ELBO with a Monte Carlo KL: its mean over many draws equals the analytic one.
    func testIWAEk1IsTheELBO() throws {
        var rng = Xoshiro256(seed: 12)
        var cfg = VAEConfig()
        cfg.dataDim = 4; cfg.hidden = [5]; cfg.latentDim = 2
        let vae = try VAE(config: cfg, rng: &rng)
        var rows: [[Float]] = []
        for _ in 0..<4000 { rows.append([0.1, 0.9, 0.5, 1]) }
        let x = Matrix(rows)
        var r = Xoshiro256(seed: 4)
        let b = vae.importanceWeightedBound(x, k: 1, rng: &r)
        XCTAssertEqual(b.negativeBound, b.negativeELBO, accuracy: 4 * b.standardError + 1e-3)
    }
}
