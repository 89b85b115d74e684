import Foundation
import Linalg

/// The samples of a training run, with an optional held-out test split: MNIST-style bytes with
/// labels, or a float matrix (one sample per row) with or without labels.
public struct Dataset: Sendable {
    /// One split's samples.
    public enum Storage: Sendable {
        /// Byte images with labels (MNIST); converted to Float per batch with a `PixelScaling`.
        case bytes(LabeledImages)
        /// Float samples, one per row, values in [0, 1], with one class per row (`0..<K`) or nil.
        case floats(Matrix, labels: [Int32]? = nil)

        /// Number of samples.
        public var count: Int {
            switch self {
            case .bytes(let b): return b.count
            case .floats(let m, _): return m.rows
            }
        }

        /// Values per sample (pixels of an image, columns of a float row).
        public var sampleSize: Int {
            switch self {
            case .bytes(let b): return b.sampleSize
            case .floats(let m, _): return m.cols
            }
        }

        /// True when every sample has a class.
        public var hasLabels: Bool {
            switch self {
            case .bytes: return true
            case .floats(_, let labels): return labels != nil
            }
        }

        /// The class of sample `i` (no allocation).
        /// - Precondition: `hasLabels`, `0 <= i < count`.
        public func label(_ i: Int) -> Int32 {
            switch self {
            case .bytes(let b): return Int32(b.labels[i])
            case .floats(_, let labels): return labels![i]
            }
        }

        /// The class of each sample (0-9 for MNIST), or nil for unlabelled data (a new array).
        public var labels: [Int32]? {
            switch self {
            case .bytes(let b): return b.labels.map { Int32($0) }
            case .floats(_, let labels): return labels
            }
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
            case .floats(let m, _):
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
    /// What loading changed, one sentence each naming the file (a float64 or integer `.npy`
    /// converted to float32, a 1-D array read as N samples of one value); for a CLI to print.
    public var notes: [String] = []
    /// The per-column scaling applied to real-valued data outside [0, 1] (nil: none).
    public var scaling: FeatureScaling?
    /// Number of classes K when the samples have labels (`0..<K`; 10 for MNIST), else nil.
    public let numClasses: Int?

    /// `numClasses` nil for labelled samples takes the largest training label plus one; for
    /// unlabelled samples it is ignored (nil).
    /// - Precondition: every label is in `0..<numClasses` when it is given (`Dataset.load`
    ///   validates files before building one).
    public init(train: Storage, test: Storage?, source: String, imageShape: (height: Int, width: Int)?,
                numClasses: Int? = nil) {
        self.train = train
        self.test = test
        self.source = source
        self.imageShape = imageShape
        guard train.hasLabels else { self.numClasses = nil; return }
        self.numClasses = numClasses ?? (0..<train.count).reduce(0) { max($0, Int(train.label($1)) + 1) }
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
            var d = Dataset(train: .bytes(images), test: test, source: source, imageShape: imageShape,
                            numClasses: numClasses)
            (d.notes, d.scaling) = (notes, scaling)
            return d
        case .floats(let m, let labels) where n < m.rows:
            var d = Dataset(train: .floats(m.rows(0..<n), labels: labels.map { Array($0[0..<n]) }), test: test,
                            source: source, imageShape: imageShape, numClasses: numClasses)
            (d.notes, d.scaling) = (notes, scaling)
            return d
        default:
            return self
        }
    }
}
