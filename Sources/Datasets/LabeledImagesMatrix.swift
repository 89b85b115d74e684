import Linalg

extension LabeledImages {
    /// All `count` images as one `count x sampleSize` matrix (row-major pixels, one image per
    /// row), scaled by `scaling` (default `.unit`: bytes / 255 in [0, 1]).
    public func matrix(scaling: PixelScaling = .unit) -> Matrix {
        var m = Matrix.empty
        gatherBatch(from: images, sampleSize: sampleSize, indices: ArraySlice(0..<count), scaling: scaling, into: &m)
        return m
    }
}
