import Datasets
import Foundation
import Linalg

/// The repository root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The first `n` MNIST training images, loaded once for all tests.
let mnistTrain: LabeledImages = {
    try! MNIST.load(.train, from: packageRoot.appendingPathComponent("data/mnist"))
}()

/// Rows `start..<start+n` of MNIST training images as a Matrix scaled by `scaling`.
func mnistBatch(_ start: Int, _ n: Int, _ scaling: PixelScaling) -> Matrix {
    var m = Matrix.empty
    gatherBatch(from: mnistTrain.images, sampleSize: mnistTrain.sampleSize,
                indices: ArraySlice(start..<(start + n)), scaling: scaling, into: &m)
    return m
}
