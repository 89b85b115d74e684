extension Matrix {
    /// Maps every element affinely from the interval `source` to `target`:
    /// `y = (x - source.lowerBound) * s + target.lowerBound` with
    /// `s = (target.upperBound - target.lowerBound) / (source.upperBound - source.lowerBound)`.
    ///
    /// The conversion between a tanh generator's `[-1, 1]` and image pixels in `[0, 1]`:
    /// `-1...1 -> 0...1` computes `(x + 1) * 0.5` and `0...1 -> -1...1` computes `2x - 1`,
    /// each exactly (the scales are powers of two). Values outside `source` are extrapolated,
    /// not clamped. In place, no allocation when the storage is unshared; a no-op (bit for
    /// bit, signs of zero included) when `source == target`.
    /// - Precondition: `source` has positive width.
    public mutating func mapRange(from source: ClosedRange<Float>, to target: ClosedRange<Float>) {
        precondition(source.upperBound > source.lowerBound, "mapRange: empty source interval \(source)")
        if source == target { return }
        let scale = (target.upperBound - target.lowerBound) / (source.upperBound - source.lowerBound)
        let lo = source.lowerBound, base = target.lowerBound
        withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = (p[i] - lo) * scale + base }
        }
    }

    /// A copy of this matrix mapped from `source` to `target` (see `mapRange(from:to:)`).
    public func mappingRange(from source: ClosedRange<Float>, to target: ClosedRange<Float>) -> Matrix {
        var m = self
        m.mapRange(from: source, to: target)
        return m
    }
}
