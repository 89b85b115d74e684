import Foundation
import Linalg

extension Dataset {
    /// Loads `path`: a directory of MNIST IDX files (train and t10k splits, `.gz` or raw), a
    /// `.npy` (N x D) or a `.csv` of numeric rows. Values in [0, 1] are used as they are, whole
    /// numbers 0-255 divided by 255, and any other real values scaled per column to [0, 1]
    /// (`FeatureScaling`, kept in `scaling` so samples can be mapped back; a note says so). `path` nil means the
    /// package's `data/mnist` (`MNIST.defaultDirectory`, found from any working directory).
    /// `limit` keeps the first N training samples.
    ///
    /// Labels: MNIST's own; for a float file, `labels` names a `.npy` of N class numbers
    /// (`NPY.readLabels`) or a CSV column (1-based, taken out of the features). `classes`
    /// declares the number of classes K (labels must be below it); nil takes the largest label
    /// plus one (10 for MNIST).
    /// - Throws: `DatasetError` naming the file: missing, of another kind, empty, malformed (see
    ///   `MNIST.load`, `NPY.readMatrix`, `CSV.readMatrix`), holding NaN or infinity (row and
    ///   column named); and for labels: a count
    ///   that differs from the samples', a negative, non-integer or undeclared class (row
    ///   named), a label source that does not fit the data (a column of a non-CSV file, a label
    ///   file beside MNIST), or `classes` given for data without labels.
    public static func load(path: String?, limit: Int?, labels: LabelSource? = nil,
                            classes: Int? = nil) throws -> Dataset {
        var data = try loadSamples(path: path, labels: labels)
        data = try data.checkingClasses(declared: classes, labelSource: labels)
        if let limit { data = data.limited(to: limit) }
        return data
    }

    private static func loadSamples(path: String?, labels: LabelSource?) throws -> Dataset {
        if let path {
            let url = URL(fileURLWithPath: path)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
                throw DatasetError(path: path, problem: "no such file or directory")
            }
            let ext = url.pathExtension.lowercased()
            if case .column = labels, isDir.boolValue || ext != "csv" {
                throw DatasetError(path: path, problem: "a label column needs a .csv data file")
            }
            if isDir.boolValue {
                if case .file(let f) = labels {
                    throw DatasetError(path: f, problem: "MNIST IDX files carry their own labels; a label file goes with .npy or .csv data")
                }
                return try mnist(url)
            } else if ext == "npy" {
                let (m, dtype, shape) = try NPY.read(contentsOf: url)
                var d = try floats(m, source: url.path, labels: labels)
                if dtype != "<f4" && dtype != "|u1" {
                    d.notes.append("\(url.path): '\(dtype)' values converted to float32")
                }
                if shape.count == 1 {
                    d.notes.append("\(url.path): a 1-D array of \(shape[0]) values, read as \(shape[0]) samples of one value")
                }
                return d
            } else if ext == "csv" {
                let (m, header) = try CSV.read(contentsOf: url)
                // (A label column out of range is reported by splitLabels instead.)
                let columnInRange: Bool = { if case .column(let c) = labels { return c >= 1 && c <= m.cols }; return true }()
                if columnInRange, let h = header, let c = h.firstIndex(where: { labelNames.contains($0.lowercased()) }),
                   labels != .column(c + 1) {
                    throw DatasetError(path: url.path, problem: "column \(c + 1) is named '\(h[c])': "
                        + "give it as the label column (--label-column \(c + 1)) or remove it; it would be trained as a feature")
                }
                return try floats(m, source: url.path, labels: labels)
            } else {
                throw DatasetError(path: path, problem: "expected a directory of MNIST IDX files, a .npy or a .csv file")
            }
        }
        guard let dir = MNIST.defaultDirectory() else {
            throw DatasetError(path: MNIST.defaultRelativePath, problem: "not found in \(ShippedFiles.searchedPlaces()); give a data path")
        }
        if case .file(let f) = labels {
            throw DatasetError(path: f, problem: "MNIST IDX files carry their own labels; a label file goes with .npy or .csv data")
        }
        if case .column = labels {
            throw DatasetError(path: dir.path, problem: "a label column needs a .csv data file")
        }
        return try mnist(dir)
    }

    /// CSV header names that mean "the class", refused as a feature column.
    static let labelNames: Set<String> = ["label", "labels", "class", "target", "digit"]

    private static func mnist(_ dir: URL) throws -> Dataset {
        let train = try MNIST.load(.train, from: dir)
        let test = try MNIST.load(.test, from: dir)
        return Dataset(train: .bytes(train), test: .bytes(test), source: dir.path,
                       imageShape: (train.height, train.width), numClasses: 10)
    }

    private static func floats(_ all: Matrix, source: String, labels: LabelSource?) throws -> Dataset {
        let (m, classes) = try splitLabels(all, source: source, labels: labels)
        guard m.rows > 0 && m.cols > 0 else {
            throw DatasetError(path: source, problem: "no samples (\(m.rows)x\(m.cols))")
        }
        // Swift's min/max skip NaN, so NaN is looked for explicitly; byte data must be whole
        // numbers (a float file slightly above 1 is an error, not bytes to divide by 255).
        var lo = Float.infinity, hi = -Float.infinity
        var firstNaN: Int?, allWhole = true
        m.withUnsafeBufferPointer { p in
            for (i, v) in p.enumerated() {
                if !v.isFinite { firstNaN = firstNaN ?? i; continue }
                lo = min(lo, v); hi = max(hi, v)
                if v.rounded() != v { allWhole = false }
            }
        }
        if let i = firstNaN {
            let v = m.withUnsafeBufferPointer { $0[i] }
            throw DatasetError(path: source, problem: "\(v.isNaN ? "NaN" : "\(v)") at row \(i / m.cols + 1), column \(i % m.cols + 1)")
        }
        var scaled = m, scaling: FeatureScaling?
        let side = Int(Double(m.cols).squareRoot())
        let imageLike = side * side == m.cols && m.cols >= 64
        if hi > 1 && lo >= 0 && hi <= 255 && allWhole && imageLike {
            // Byte-valued images (uint8 .npy, 0-255 CSV of 8x8 or larger): bring them to [0, 1].
            // Other whole numbers (counts, ages) are scaled per column below, and mapped back.
            scaled.scale(by: 1 / 255)
        } else if !(lo >= 0 && hi <= 1) {
            // Real values in any range: min-max per column, undone for samples written.
            scaling = FeatureScaling(fitting: m)
            scaling!.apply(&scaled)
        }
        // numClasses: the largest label + 1, derived by the initialiser.
        var d = Dataset(train: .floats(scaled, labels: classes), test: nil, source: source,
                        imageShape: side * side == m.cols ? (side, side) : nil)
        d.scaling = scaling
        if scaling != nil {
            d.notes.append("\(source): values in [\(lo), \(hi)] scaled to [0, 1] per column (min-max; samples written as .npy are mapped back)")
        }
        return d
    }
}
