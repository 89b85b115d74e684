import Foundation
import Linalg

/// The samples of a training run, with an optional held-out test split: MNIST-style bytes with
/// labels, or a float matrix without labels (one sample per row).
public struct Dataset: Sendable {
    /// One split's samples.
    public enum Storage: Sendable {
        /// Byte images with labels (MNIST); converted to Float per batch with a `PixelScaling`.
        case bytes(LabeledImages)
        /// Float samples, one per row, values in [0, 1].
        case floats(Matrix)

        /// Number of samples.
        public var count: Int {
            switch self {
            case .bytes(let b): return b.count
            case .floats(let m): return m.rows
            }
        }

        /// Values per sample (pixels of an image, columns of a float row).
        public var sampleSize: Int {
            switch self {
            case .bytes(let b): return b.sampleSize
            case .floats(let m): return m.cols
            }
        }

        /// The class of each sample (0-9 for MNIST), or nil for float data.
        public var labels: [UInt8]? {
            if case .bytes(let b) = self { return b.labels }
            return nil
        }

        /// Fills `batch` with samples `indices`, scaled to `scaling` (bytes: `b / 255` or
        /// `b / 127.5 - 1`; floats: as stored, or `2v - 1` for `.symmetric`). `batch` becomes
        /// `indices.count x sampleSize`; no allocation in steady state.
        /// - Precondition: every index is in `0..<count`.
        public func gather(_ indices: ArraySlice<Int>, scaling: PixelScaling, into batch: inout Matrix) {
            switch self {
            case .bytes(let b):
                gatherBatch(from: b.images, sampleSize: b.sampleSize, indices: indices,
                            scaling: scaling, into: &batch)
            case .floats(let m):
                gatherBatch(from: m, indices: indices, into: &batch)
                batch.mapRange(from: PixelScaling.unit.range, to: scaling.range)
            }
        }
    }

    /// The samples training draws from.
    public let train: Storage
    /// The held-out split (MNIST's t10k), or nil.
    public let test: Storage?
    /// Where the data came from (a directory or file path), for messages and config.json.
    public let source: String
    /// Image height and width when each sample is an image (MNIST, or a square number of
    /// columns); nil for other vectors.
    public let imageShape: (height: Int, width: Int)?

    public init(train: Storage, test: Storage?, source: String, imageShape: (height: Int, width: Int)?) {
        self.train = train
        self.test = test
        self.source = source
        self.imageShape = imageShape
    }

    /// Training samples.
    public var count: Int { train.count }
    /// Values per training sample.
    public var sampleSize: Int { train.sampleSize }

    /// The first `n` training samples (the test split is kept whole); `self` when `n >= count`.
    public func limited(to n: Int) -> Dataset {
        switch train {
        case .bytes(let b) where n < b.count:
            let imgs = Array(b.images[0..<(n * b.sampleSize)])
            let lbls = Array(b.labels[0..<n])
            let images = LabeledImages(images: imgs, labels: lbls, count: n, height: b.height, width: b.width)
            return Dataset(train: .bytes(images), test: test, source: source, imageShape: imageShape)
        case .floats(let m) where n < m.rows:
            return Dataset(train: .floats(m.rows(0..<n)), test: test, source: source, imageShape: imageShape)
        default:
            return self
        }
    }
}
