import Foundation
import XCTest
@testable import Linalg

/// The fast exp/log1p/sigmoid/tanh against libm in Double, over a sweep of Float bit
/// patterns (every 4099th positive pattern, both signs: ~1M values from 1e-45 to 3e38).
final class FastMathTests: XCTestCase {
    func forEachFloat(_ body: (Float) -> Void) {
        var bits: UInt32 = 1
        while bits < 0x7F80_0000 {
            let x = Float(bitPattern: bits)
            body(x)
            body(-x)
            bits &+= 4099
        }
        for x: Float in [0, -0, 1, -1, 0.625, -0.625, 88, -87.3, 1000, -1000] { body(x) }
    }

    func testExpRelativeErrorWithinTwoUlp() {
        var worst = 0.0
        forEachFloat { x in
            guard x >= -87.3 && x <= 88 else { return }
            let ref = exp(Double(x))
            worst = max(worst, abs(Double(fastExp(x)) - ref) / ref)
        }
        XCTAssertLessThan(worst, 2.4e-7)
    }

    func testExpClampsInsteadOfOverflowing() {
        for x: Float in [89, 1000, .infinity, .greatestFiniteMagnitude] {
            XCTAssertTrue(fastExp(x).isFinite, "\(x)")
            XCTAssertEqual(Double(fastExp(x)), exp(88.0), accuracy: exp(88.0) * 1e-6)
        }
        for x: Float in [-88, -1000, -.infinity] {
            XCTAssertEqual(fastExp(x), 0, "\(x)")
        }
        XCTAssertGreaterThan(fastExp(-87.2), 0)
        XCTAssertTrue(fastExp(.nan).isNaN)
    }

    func testLog1pOnUnitInterval() {
        var worst = 0.0
        forEachFloat { u in
            guard u > 0 && u <= 1 else { return }
            let ref = log1p(Double(u))
            worst = max(worst, abs(Double(fastLog1p(u)) - ref) / ref)
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(fastLog1p(0), 0)
        XCTAssertTrue(fastLog1p(.nan).isNaN)
    }

    func testSigmoidAndTanhAbsoluteErrorAndRange() {
        var sig = 0.0, th = 0.0, thRel = 0.0
        forEachFloat { x in
            let s = fastSigmoid(x), t = fastTanh(x)
            XCTAssertTrue(s.isFinite && s >= 0 && s <= 1, "sigmoid(\(x)) = \(s)")
            XCTAssertTrue(t.isFinite && t >= -1 && t <= 1, "tanh(\(x)) = \(t)")
            sig = max(sig, abs(Double(s) - 1 / (1 + exp(-Double(x)))))
            let ref = tanh(Double(x))
            th = max(th, abs(Double(t) - ref))
            if abs(ref) >= 1e-30 { thRel = max(thRel, abs(Double(t) - ref) / abs(ref)) }
        }
        XCTAssertLessThan(sig, 3e-7)
        XCTAssertLessThan(th, 3e-7)
        XCTAssertLessThan(thRel, 2e-6)
        XCTAssertTrue(fastSigmoid(.nan).isNaN)
        XCTAssertTrue(fastTanh(.nan).isNaN)
        XCTAssertEqual(fastTanh(-0.0), 0)
    }

    /// fastSqrt is the IEEE square root: the bits of Swift's `squareRoot()` (correctly rounded
    /// by IEEE 754) for every sampled non-negative Float (~520K), subnormals, zeros of both
    /// signs and inf included; NaN for NaN and negative input.
    func testSqrtIsCorrectlyRounded() {
        var mismatches = 0, notNaN = 0
        forEachFloat { v in
            if v < 0 {
                if !fastSqrt(v).isNaN { notNaN += 1 }
            } else if fastSqrt(v).bitPattern != v.squareRoot().bitPattern {
                mismatches += 1
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(notNaN, 0, "negative input gives NaN")
        for v: Float in [0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, 2, .greatestFiniteMagnitude, .infinity] {
            XCTAssertEqual(fastSqrt(v).bitPattern, v.squareRoot().bitPattern, "\(v)")
        }
        XCTAssertEqual(fastSqrt(4), 2)
        XCTAssertTrue(fastSqrt(.nan).isNaN)
        XCTAssertTrue(fastSqrt(-1).isNaN)
    }

    func testSumOfElementsMatchesDoubleSum() {
        var rng = Xoshiro256(seed: 5)
        for n in [0, 1, 7, 8, 9, 1023, 1024, 1025, 5000] {
            let m = Matrix.uniform(rows: 1, cols: n, low: -1, high: 1, using: &rng)
            let ref = m.elements.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(m.sum(), ref, accuracy: 1e-4, "n = \(n)")
        }
    }
}
