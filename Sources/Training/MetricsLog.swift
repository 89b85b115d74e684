import Datasets
import FileIO
import Foundation

/// `metrics.csv` of a run: one row per logged step window and per epoch, rewritten atomically
/// (temp file + rename) so the file on disk is always complete.
struct MetricsLog {
    let url: URL
    let columns: [String]
    private var rows: [String] = []

    /// Opens the log; when resuming, keeps the existing rows up to `keepUpToStep` (rows written
    /// after the checkpoint being resumed from are dropped: they will be recomputed).
    init(url: URL, columns: [String], keepUpToStep: Int?) throws {
        self.url = url
        self.columns = columns
        guard let limit = keepUpToStep, let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == columns.joined(separator: ",") else {
            throw RunError("\(url.path): columns differ from this model's (\(columns.joined(separator: ",")))")
        }
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > 2, let step = Int(fields[2]), step <= limit { rows.append(line) }
        }
    }

    /// Appends a row: `kind` (`step` or `epoch`), epoch, step, then `values` in column order.
    mutating func add(kind: String, epoch: Int, step: Int, values: [Double]) {
        let cells = values.map { $0.isNaN ? "" : String(format: "%.6g", $0) }
        rows.append(([kind, String(epoch), String(step)] + cells).joined(separator: ","))
    }

    /// Writes the whole file atomically.
    func write() throws {
        let text = ([columns.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(text.utf8), to: url)
    }
}
