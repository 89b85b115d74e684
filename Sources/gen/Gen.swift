import ArgumentParser
import Foundation

/// `gen`: train, sample from and benchmark the project's generative models.
@main
struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Train GANs and VAEs on MNIST (or any vector data) with OpenBLAS.",
        discussion: "Errors are one line on standard error, 'gen: error: ...', with exit code 64 (bad flag), 65 (bad data), 66 (missing input), 73 (cannot write output), 1 (training failed), 130/143 (interrupted).",
        version: genVersion,
        subcommands: [Train.self, Sample.self, Eval.self, Report.self, Bench.self])

    /// Parses, runs, and turns every failure into one line and an exit code (`Failure.report`),
    /// instead of argument-parser's "Error:" plus usage for flags and ad-hoc handling elsewhere.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            Foundation.exit(Failure.report(error))
        }
    }
}
