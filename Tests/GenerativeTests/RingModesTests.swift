import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

/// The 8-Gaussian ring of Metz et al. 2017 (unrolled GANs) / Srivastava et al. 2017 (VEEGAN):
/// 8 modes at radius 2, std 0.02. A sample covers the nearest mode when it lies within 3 std of
/// its centre; a mode counts as covered when it gets at least 1% of the samples.
///
/// A measurement, not part of the default suite (minutes in a debug build): run with
/// `GEN_RING=1 swift test --filter RingModesTests` (`GEN_RING_EPOCHS`, default 100, and
/// `GEN_RING_LOSS`: wasserstein (WGAN-GP), wasserstein-clipping or non-saturating). It prints
/// the coverage, and asserts all 8 modes for WGAN-GP (issue 11's floor). Measured on the
/// WGAN-GP defaults (dataDim 2): NOT met — 0 of 8 modes after 100 and after 400 epochs
/// (10,000 points, batch 128): samples spread around all 8 mode regions (nearest-mode counts
/// 466-1918 of 10,000) but at a median 0.62 from the centre, against 3 std = 0.06.
final class RingModesTests: XCTestCase {
    static let radius = 2.0, std = 0.02, modes = 8

    static func centre(_ k: Int) -> (Double, Double) {
        let a = 2 * Double.pi * Double(k) / Double(modes)
        return (radius * cos(a), radius * sin(a))
    }

    /// `n` points, mode k = i mod 8, from `rng`; unscaled.
    static func ring(_ n: Int, rng: inout Xoshiro256) -> [(Double, Double)] {
        (0..<n).map { i in
            let (cx, cy) = centre(i % modes)
            return (cx + std * Double(rng.nextNormal()), cy + std * Double(rng.nextNormal()))
        }
    }

    /// Samples per mode (within 3 std of its centre) and the samples near no mode.
    static func coverage(_ points: [(Double, Double)]) -> (perMode: [Int], off: Int) {
        var per = [Int](repeating: 0, count: modes), off = 0
        for (x, y) in points {
            if let k = (0..<modes).first(where: { k in
                let (cx, cy) = centre(k)
                return ((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot() <= 3 * std
            }) { per[k] += 1 } else { off += 1 }
        }
        return (per, off)
    }

    func testEightGaussianRing() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["GEN_RING"] == "1" else { throw XCTSkip("measurement: set GEN_RING=1") }
        let epochs = Int(env["GEN_RING_EPOCHS"] ?? "") ?? 100
        let lossName = env["GEN_RING_LOSS"] ?? "wasserstein"
        var config: GANConfig
        switch lossName {
        case "wasserstein-clipping": config = .wassersteinClipping()
        default: config = .standard(loss: GANLoss(rawValue: lossName) ?? .wasserstein)
        }
        config.dataDim = 2
        var rng = Xoshiro256(seed: 1)
        let data = Self.ring(10_000, rng: &rng)
        // Scaled to [-1, 1] (tanh's range) by the largest absolute coordinate.
        let scale = data.reduce(0.0) { max($0, abs($1.0), abs($1.1)) }
        let flat = data.flatMap { [Float($0.0 / scale), Float($0.1 / scale)] }
        let trainer = try GANTrainer(model: try GAN(config: config, rng: &rng), config: config,
                                     rng: Xoshiro256(seed: 2))
        var order = Array(0..<data.count), batch = Matrix(rows: 128, cols: 2)
        let start = Date()
        for _ in 0..<epochs {
            rng.shuffle(&order)
            for b in 0..<(data.count / 128) {
                batch.withUnsafeMutableBufferPointer { p in
                    for r in 0..<128 { p[2 * r] = flat[2 * order[b * 128 + r]]; p[2 * r + 1] = flat[2 * order[b * 128 + r] + 1] }
                }
                try trainer.step(real: batch)
            }
        }
        var sampleRNG = Xoshiro256(seed: 3)
        let s = trainer.model.sample(count: 10_000, rng: &sampleRNG).elements
        let points = (0..<10_000).map { (Double(s[2 * $0]) * scale, Double(s[2 * $0 + 1]) * scale) }
        let (per, off) = Self.coverage(points)
        let covered = per.filter { Double($0) >= 0.01 * 10_000 }.count
        // Diagnostics: samples per nearest mode, and the median distance to it.
        var nearest = [Int](repeating: 0, count: 8), dists: [Double] = []
        for (x, y) in points {
            let d = (0..<8).map { k -> Double in let (cx, cy) = Self.centre(k); return hypot(x - cx, y - cy) }
            let k = d.indices.min { d[$0] < d[$1] }!
            nearest[k] += 1; dists.append(d[k])
        }
        print("nearest-mode counts \(nearest), median distance \(dists.sorted()[5_000]) (3 std = \(3 * Self.std))")
        print("ring \(lossName) epochs \(epochs): \(covered)/8 modes, per mode \(per), "
              + "\(off) of 10000 off-mode, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        if lossName == "wasserstein" { XCTAssertEqual(covered, 8) }
    }

    /// The fixture and the counter: a 2-D Gaussian puts 1 - exp(-9/2) = 98.9% of its points
    /// within 3 std of its centre, so about 989 of 1000 per mode are counted.
    func testRingFixtureIsCoveredByTheCounter() {
        var rng = Xoshiro256(seed: 1)
        let (per, off) = Self.coverage(Self.ring(8_000, rng: &rng))
        XCTAssertEqual(per.count, 8)
        XCTAssertTrue(per.allSatisfy { $0 >= 960 }, "\(per)")
        XCTAssertLessThan(off, 160)
    }
}
