import CVectorMath
import Foundation

/// Seeded xoshiro256** generator (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
/// generators"), seeded through SplitMix64 so that any 64-bit seed gives a well-mixed state.
///
/// Always passed explicitly (`inout`): the project has no hidden global generator. Its whole
/// state is four words (`state`), so checkpoints can save and restore it exactly. Float
/// conversion is done here, not by the standard library, so sequences are stable across
/// toolchains.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
    /// The four state words; restoring them restores the sequence exactly.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose state is derived from `seed` by SplitMix64.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// A generator with exactly these state words (as saved from `stateWords`).
    /// - Precondition: not all four words are zero (the all-zero state is a fixed point).
    public init(stateWords w: [UInt64]) {
        precondition(w.count == 4 && w.contains { $0 != 0 }, "Xoshiro256: invalid state words")
        state = (w[0], w[1], w[2], w[3])
    }

    /// The state as an array of four words, for checkpoints.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: Xoshiro256, b: Xoshiro256) -> Bool { a.stateWords == b.stateWords }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// The next 64 random bits.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Xoshiro256.rotl(state.3, 45)
        return result
    }

    /// A uniform Float in `[0, 1)` with 24 random bits.
    @inlinable @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform Double in `[0, 1)` with 53 random bits.
    @inlinable @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-shift; bias below 2^-32 for the
    /// bounds used here, dataset sizes).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "Xoshiro256: bound must be positive")
        let m = (next() >> 32) &* UInt64(UInt32(truncatingIfNeeded: bound))
        return bound <= Int(UInt32.max) ? Int(m >> 32) : Int(next() % UInt64(bound))
    }

    /// A standard normal sample `N(0, 1)` (Box-Muller; one of the pair is discarded).
    public mutating func nextNormal() -> Float {
        let (a, _) = normalPair()
        return a
    }

    /// Two independent standard normal samples (Box-Muller transform, Box & Muller 1958).
    @inlinable @inline(__always)
    mutating func normalPair() -> (Float, Float) {
        // u1 in (0, 1]: never log(0).
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        var s = 0.0, c = 0.0
        cvm_sincos(theta, &s, &c)   // Foundation.sin and cos's bits, in one call
        return (Float(r * c), Float(r * s))
    }

    /// Fills `buffer` with uniform samples in `[low, high)` (`low < high`). No allocation.
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>,
                                     low: Float = 0, high: Float = 1) {
        let scale = high - low
        // low + scale * u can round up to high (1 + 2 * (1 - 2^-24) == 3 in Float): such values
        // become the largest Float below high, so the interval stays half-open.
        let top = Swift.max(low, high.nextDown)
        for i in 0..<buffer.count {
            let v = low + scale * nextFloat()
            buffer[i] = v < high ? v : top
        }
    }

    /// Fills `buffer` with normal samples `N(mean, std^2)`. No allocation.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>,
                                    mean: Float = 0, std: Float = 1) {
        var i = 0
        let n = buffer.count
        while i + 1 < n {
            let (a, b) = normalPair()
            buffer[i] = mean + std * a
            buffer[i + 1] = mean + std * b
            i += 2
        }
        if i < n { buffer[i] = mean + std * nextNormal() }
    }

    /// Shuffles `indices` in place (Fisher-Yates), reproducibly from this generator.
    public mutating func shuffle(_ indices: inout [Int]) {
        var i = indices.count - 1
        while i > 0 {
            let j = nextInt(below: i + 1)
            indices.swapAt(i, j)
            i -= 1
        }
    }
}
