import Foundation
import XCTest
import Linalg

final class XoshiroTests: XCTestCase {
    /// Printed by scripts/xoshiro256_reference.py, an independent Python implementation of the
    /// published splitmix64.c and xoshiro256starstar.c (Blackman & Vigna).
    let reference: [(UInt64, [UInt64], [UInt64])] = [
        (0x0, [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC],
         [0x99EC5F36CB75F2B4, 0xBF6E1F784956452A, 0x1A5F849D4933E6E0, 0x6AA594F1262D2D2C,
          0xBBA5AD4A1F842E59, 0xFFEF8375D9EBCACA]),
        (0x2a, [0xBDD732262FEB6E95, 0x28EFE333B266F103, 0x47526757130F9F52, 0x581CE1FF0E4AE394],
         [0x15780B2E0C2EC716, 0x6104D9866D113A7E, 0xAE17533239E499A1, 0xECB8AD4703B360A1,
          0xFDE6DC7FE2EC5E64, 0xC50DA53101795238]),
        (0xdeadbeef, [0x4ADFB90F68C9EB9B, 0xDE586A3141A10922, 0x021FBC2F8E1CFC1D, 0x7466CE737BE16790],
         [0xC5555444A74D7E83, 0x65C30D37B4B16E38, 0x54F773200A4EFA23, 0x429AED75FB958AF7,
          0xFB0E1DD69C255B2E, 0x9D6D02EC58814A27]),
    ]

    func testMatchesIndependentReference() {
        for (seed, state, outputs) in reference {
            var g = Xoshiro256(seed: seed)
            XCTAssertEqual(g.stateWords, state, "SplitMix64 seeding, seed \(seed)")
            XCTAssertEqual((0..<6).map { _ in g.next() }, outputs, "xoshiro256** outputs, seed \(seed)")
        }
        var g = Xoshiro256(seed: 7)
        XCTAssertEqual((0..<4).map { _ in g.nextFloat() },
                       [0.7005764245986938, 0.2787511944770813, 0.8396274447441101, 0.9810976982116699])
        XCTAssertEqual((0..<4).map { _ in g.nextDouble() },
                       [0.9908602788330683, 0.872773938745132, 0.060752079492816136, 0.1044357892428116])
    }

    func testSameSeedSameSequenceAndRestore() {
        var a = Xoshiro256(seed: 123), b = Xoshiro256(seed: 123), c = Xoshiro256(seed: 124)
        let sa = (0..<100).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.next() })
        XCTAssertEqual(a, b)

        let saved = a.stateWords
        let continued = (0..<50).map { _ in a.nextNormal() }
        var restored = Xoshiro256(stateWords: saved)
        XCTAssertEqual((0..<50).map { _ in restored.nextNormal() }, continued)
        XCTAssertEqual(restored, a)
    }

    func testUniformInUnitIntervalWithMeanHalf() {
        var g = Xoshiro256(seed: 99)
        let n = 100_000
        var lo: Float = 1, hi: Float = 0, sum = 0.0
        for _ in 0..<n {
            let u = g.nextFloat()
            lo = min(lo, u); hi = max(hi, u); sum += Double(u)
        }
        XCTAssertGreaterThanOrEqual(lo, 0)
        XCTAssertLessThan(hi, 1)
        // Var(U) = 1/12: 4 standard errors of the mean.
        XCTAssertEqual(sum / Double(n), 0.5, accuracy: 4 * (1.0 / 12 / Double(n)).squareRoot())

        let m = Matrix.uniform(rows: 50, cols: 20, low: -3, high: 2, using: &g)
        XCTAssertTrue(m.elements.allSatisfy { $0 >= -3 && $0 < 2 })
    }

    /// A generator whose next output is 2^64 - 1, the largest: xoshiro256** returns
    /// rotl(s1 * 5, 7) * 9, so s1 = 5⁻¹ rotr(9⁻¹ (2^64 - 1), 7) (inverses mod 2^64).
    func generatorWithMaximalNextOutput() -> Xoshiro256 {
        func inverse(_ x: UInt64) -> UInt64 {   // Newton iteration, exact after 6 steps
            var y = x
            for _ in 0..<6 { y = y &* (2 &- x &* y) }
            return y
        }
        let r = UInt64.max &* inverse(9)
        let s1 = inverse(5) &* ((r >> 7) | (r << 57))
        return Xoshiro256(stateWords: [1, s1, 2, 3])
    }

    func testUniformUpperEdgeStaysBelowHigh() {
        let g = generatorWithMaximalNextOutput()
        var probe = g
        XCTAssertEqual(probe.next(), UInt64.max, "test setup: crafted state gives the maximal output")
        var h = g
        XCTAssertEqual(h.nextFloat(), 1 - 0x1p-24, "largest nextFloat is 1 - 2^-24")
        // In Float, 1 + 2 * (1 - 2^-24) rounds to 3: the sample must still be below high.
        for (low, high) in [(Float(1), Float(3)), (0.1, 0.3), (0.7, 0.9), (-1, 1)] {
            var gg = g
            let m = Matrix.uniform(rows: 1, cols: 1, low: low, high: high, using: &gg)
            XCTAssertLessThan(m[0, 0], high, "uniform(\(low), \(high))")
            XCTAssertGreaterThanOrEqual(m[0, 0], low)
        }
    }

    /// Box-Muller's sin and cos come from one sincos call: every normal must be the bits of
    /// the textbook formula with Foundation's sin and cos over the same two draws (the random
    /// streams of earlier runs and checkpoints stay the same).
    func testNormalsAreTheBoxMullerFormulaBitForBit() {
        var rng = Xoshiro256(seed: 2024), reference = rng
        var normals = [Float](repeating: 0, count: 200_000)
        normals.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        var mismatches = 0
        for i in stride(from: 0, to: normals.count, by: 2) {
            let u1 = (Double(reference.next() >> 11) + 1) * 0x1p-53
            let u2 = Double(reference.next() >> 11) * 0x1p-53
            let r = (-2 * Foundation.log(u1)).squareRoot(), theta = 2 * Double.pi * u2
            if Float(r * Foundation.cos(theta)).bitPattern != normals[i].bitPattern
                || Float(r * Foundation.sin(theta)).bitPattern != normals[i + 1].bitPattern { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testNormalMeanAndVariance() {
        var g = Xoshiro256(seed: 2024)
        var buffer = Matrix.normal(rows: 1, cols: 40_001, using: &g)   // odd count: last from nextNormal
        let x = buffer.elements.map(Double.init)
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        // SE(mean) = 1/√n; SE(variance) = √(2/(n-1)) for normal data.
        XCTAssertEqual(mean, 0, accuracy: 4 / n.squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 4 * (2 / (n - 1)).squareRoot())

        buffer = Matrix.normal(rows: 100, cols: 100, mean: 3, std: 0.5, using: &g)
        XCTAssertEqual(buffer.mean(), 3, accuracy: 4 * 0.5 / 100)
    }

    func testShuffleIsAPermutationAndReproducible() {
        var g1 = Xoshiro256(seed: 5), g2 = Xoshiro256(seed: 5)
        var p1 = Array(0..<50), p2 = Array(0..<50)
        g1.shuffle(&p1); g2.shuffle(&p2)
        XCTAssertEqual(p1, p2)
        XCTAssertEqual(p1.sorted(), Array(0..<50))
        XCTAssertNotEqual(p1, Array(0..<50))
        var g = Xoshiro256(seed: 1)
        XCTAssertTrue((0..<1000).allSatisfy { _ in (0..<7).contains(g.nextInt(below: 7)) })
    }
}
