import ArgumentParser
import Datasets
import Foundation
import Linalg

/// The training (and optional test) data of a run: MNIST-style bytes or a float matrix.
struct TrainingData {
    enum Storage {
        case bytes(LabeledImages)
        /// Float samples, one per row, values in [0, 1].
        case floats(Matrix)
    }

    let train: Storage
    let test: Storage?
    /// Where it came from, for messages and config.json.
    let source: String
    /// Image height and width when the samples are square-ish images (for PNG grids).
    let imageShape: (height: Int, width: Int)?

    var count: Int {
        switch train {
        case .bytes(let b): return b.count
        case .floats(let m): return m.rows
        }
    }

    var sampleSize: Int {
        switch train {
        case .bytes(let b): return b.sampleSize
        case .floats(let m): return m.cols
        }
    }

    /// Loads `path` (nil: the repo's data/mnist): a directory of MNIST IDX files, a `.npy`
    /// (N x D float32 in [0, 1], or uint8 0-255) or a `.csv` of numeric rows in [0, 1].
    /// `limit` keeps the first N training samples.
    static func load(path: String?, limit: Int?) throws -> TrainingData {
        var data: TrainingData
        if let path {
            let url = URL(fileURLWithPath: path)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
                throw ValidationError("--data \(path): no such file or directory")
            }
            if isDir.boolValue {
                data = try mnist(url)
            } else if url.pathExtension.lowercased() == "npy" {
                data = try floats(NPY.readMatrix(contentsOf: url), source: url.path)
            } else if url.pathExtension.lowercased() == "csv" {
                data = try floats(CSV.readMatrix(contentsOf: url), source: url.path)
            } else {
                throw ValidationError("--data \(path): expected a directory of MNIST IDX files, a .npy or a .csv file")
            }
        } else {
            guard let dir = MNIST.defaultDirectory() else {
                throw ValidationError("no --data given and no data/mnist directory here: run from the repository root or pass --data DIR")
            }
            data = try mnist(dir)
        }
        if let limit { data = data.limited(to: limit) }
        return data
    }

    private static func mnist(_ dir: URL) throws -> TrainingData {
        let train = try MNIST.load(.train, from: dir)
        let test = try MNIST.load(.test, from: dir)
        return TrainingData(train: .bytes(train), test: .bytes(test), source: dir.path,
                            imageShape: (train.height, train.width))
    }

    private static func floats(_ m: Matrix, source: String) throws -> TrainingData {
        guard m.rows > 0 && m.cols > 0 else {
            throw ValidationError("--data \(source): no samples (\(m.rows)x\(m.cols))")
        }
        // Swift's min/max skip NaN, so NaN is looked for explicitly; byte data must be whole
        // numbers (a float file slightly above 1 is an error, not bytes to divide by 255).
        var lo = Float.infinity, hi = -Float.infinity
        var firstNaN: Int?, allWhole = true
        m.withUnsafeBufferPointer { p in
            for (i, v) in p.enumerated() {
                if v.isNaN { firstNaN = firstNaN ?? i; continue }
                lo = min(lo, v); hi = max(hi, v)
                if v.rounded() != v { allWhole = false }
            }
        }
        if let i = firstNaN {
            throw ValidationError("--data \(source): NaN at row \(i / m.cols + 1), column \(i % m.cols + 1)")
        }
        var scaled = m
        if hi > 1 && lo >= 0 && hi <= 255 && allWhole {
            // Byte-valued data (uint8 .npy, 0-255 CSV): bring it to [0, 1].
            scaled.scale(by: 1 / 255)
        } else if !(lo >= 0 && hi <= 1) {
            throw ValidationError("--data \(source): values must lie in [0, 1] (or be whole numbers 0-255), found [\(lo), \(hi)]")
        }
        let side = Int(Double(m.cols).squareRoot())
        return TrainingData(train: .floats(scaled), test: nil, source: source,
                            imageShape: side * side == m.cols ? (side, side) : nil)
    }

    private func limited(to n: Int) -> TrainingData {
        switch train {
        case .bytes(let b) where n < b.count:
            let imgs = Array(b.images[0..<(n * b.sampleSize)])
            let lbls = Array(b.labels[0..<n])
            return TrainingData(train: .bytes(LabeledImages(images: imgs, labels: lbls, count: n, height: b.height, width: b.width)),
                                test: test, source: source, imageShape: imageShape)
        case .floats(let m) where n < m.rows:
            return TrainingData(train: .floats(m.rows(0..<n)), test: test, source: source, imageShape: imageShape)
        default:
            return self
        }
    }

    /// Fills `batch` with samples `indices` of `storage` scaled to `scaling`. No allocation in
    /// steady state.
    static func gather(_ storage: Storage, indices: ArraySlice<Int>, scaling: PixelScaling,
                       into batch: inout Matrix) {
        switch storage {
        case .bytes(let b):
            gatherBatch(from: b.images, sampleSize: b.sampleSize, indices: indices,
                        scaling: scaling, into: &batch)
        case .floats(let m):
            gatherBatch(from: m, indices: indices, into: &batch)
            if scaling == .symmetric {
                batch.withUnsafeMutableBufferPointer { p in
                    for i in 0..<p.count { p[i] = 2 * p[i] - 1 }
                }
            }
        }
    }

    static func count(_ storage: Storage) -> Int {
        switch storage {
        case .bytes(let b): return b.count
        case .floats(let m): return m.rows
        }
    }
}
