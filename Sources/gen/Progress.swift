import Foundation

/// Progress inside an epoch: a single self-rewriting line on a terminal, plain periodic lines
/// when stdout is a file or pipe (logs stay readable). Under mpirun always plain lines: Open
/// MPI hands rank 0 a pseudo-terminal even when mpirun's own output goes to a log.
struct Progress {
    let isTerminal = isatty(STDOUT_FILENO) == 1 && !Launch.isMPI
    let plainEvery: Int
    private var lastDraw = 0.0

    init(plainEvery: Int) { self.plainEvery = max(1, plainEvery) }

    /// Reports batch `done` of `total` in epoch `epoch`, with a short metrics text.
    mutating func update(epoch: Int, epochs: Int, done: Int, total: Int, step: Int,
                         samplesPerSec: Double, text: @autoclosure () -> String) {
        if isTerminal {
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw > 0.2 || done == total else { return }
            lastDraw = now
            let width = 24
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            print("\r\u{1B}[2Kepoch \(epoch)/\(epochs) [\(bar)] \(done)/\(total)  \(text())  \(Int(samplesPerSec)) samples/s",
                  terminator: "")
            fflush(nil)
        } else if step % plainEvery == 0 {
            print("  epoch \(epoch)/\(epochs) batch \(done)/\(total) step \(step)  \(text())  \(Int(samplesPerSec)) samples/s")
            fflush(nil)
        }
    }

    /// Clears the progress line before a normal line is printed.
    func clear() {
        if isTerminal { print("\r\u{1B}[2K", terminator: "") }
    }
}
