import Foundation

extension ClassifierJob {
    /// Trains the reference classifier of `config` (a classifier run) with the library loop in a
    /// scratch run directory that is removed afterwards, then exports it to `url` (`export`):
    /// only `url` is written, and nothing when training fails. `loopReady` sees the loop before
    /// it runs; `epochEnded` each epoch's report.
    /// - Returns: the test accuracy after the last epoch (a fraction).
    /// - Throws: `RunError` when training produces a non-finite value (nothing written), and
    ///   the loop's and `export`'s errors.
    public static func train(_ config: RunConfig, exportTo url: URL, command: String,
                             loopReady: (TrainingLoop) -> Void = { _ in },
                             epochEnded: @escaping (EpochReport) -> Void) throws -> Double {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("gen-classifier-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: scratch) }
        let loop = try TrainingLoop(config: config, directory: scratch)
        loopReady(loop)
        var accuracy = Double.nan
        var callbacks = TrainingCallbacks()
        callbacks.epochEnded = { r in
            accuracy = r.eval.first ?? .nan
            epochEnded(r)
            return EpochDecision()
        }
        do { _ = try loop.run(callbacks) } catch let e as NonFiniteStop { throw RunError("\(e.error); nothing written") }
        guard let checkpoint = loop.directory.newestCheckpoint else { throw RunError("\(scratch.path): no checkpoint written") }
        try export(checkpoint: checkpoint, to: url, testAccuracy: accuracy, command: command)
        return accuracy
    }
}
