import Foundation
import Linalg

extension Dataset {
    /// The samples of `all` and their labels from `labels`: a label file's classes (as many as
    /// rows), or a CSV column's values taken out of the matrix; nil without a source.
    /// - Throws: `DatasetError` naming the label file or the CSV: a count mismatch, a column
    ///   out of range, a negative or non-integer label (row named).
    static func splitLabels(_ all: Matrix, source: String, labels: LabelSource?)
        throws -> (samples: Matrix, labels: [Int32]?) {
        switch labels {
        case nil:
            return (all, nil)
        case .file(let f):
            let y = try NPY.readLabels(contentsOf: URL(fileURLWithPath: f))
            guard y.count == all.rows else {
                throw DatasetError(path: f, problem: "\(y.count) labels for \(all.rows) samples in \(source)")
            }
            return (all, y)
        case .column(let c):
            guard c >= 1 && c <= all.cols else {
                throw DatasetError(path: source, problem: "label column \(c) is not one of its \(all.cols) columns (1-based)")
            }
            guard all.cols >= 2 else {
                throw DatasetError(path: source, problem: "label column \(c) leaves no feature columns")
            }
            var rest = Matrix(rows: all.rows, cols: all.cols - 1)
            var column = [Double](repeating: 0, count: all.rows)
            for r in 0..<all.rows {
                for j in 0..<all.cols {
                    if j == c - 1 { column[r] = Double(all[r, j]) } else { rest[r, j < c - 1 ? j : j - 1] = all[r, j] }
                }
            }
            return (rest, try checkedLabels(column, path: source, column: c))
        }
    }

    /// `self` with `numClasses` set to `declared` after checking every label (training and
    /// test) is below it; unchanged when nothing is declared.
    /// - Throws: `DatasetError` naming the label file (or data source) and the 1-based row of
    ///   the first label at or above `declared`; `declared` below 2, or given for unlabelled data.
    func checkingClasses(declared: Int?, labelSource: LabelSource?) throws -> Dataset {
        guard let k = declared else { return self }
        let path: String
        if case .file(let f) = labelSource { path = f } else { path = source }
        guard train.hasLabels else {
            throw DatasetError(path: source, problem: "\(k) classes declared but the samples have no labels")
        }
        guard k >= 2 else { throw DatasetError(path: path, problem: "\(k) classes declared: need at least 2") }
        for (split, storage) in [("", train), ("test ", test)] {
            guard let storage, storage.hasLabels else { continue }
            for i in 0..<storage.count where Int(storage.label(i)) >= k {
                throw DatasetError(path: path, problem:
                    "\(split)row \(i + 1): label \(storage.label(i)) is not one of the \(k) classes declared (0-\(k - 1))")
            }
        }
        var d = Dataset(train: train, test: test, source: source, imageShape: imageShape, numClasses: k)
        (d.notes, d.scaling) = (notes, scaling)
        return d
    }
}
