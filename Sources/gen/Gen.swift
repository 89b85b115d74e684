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
    /// Under mpirun (data-parallel `gen train`), MPI is ended before exiting (`Launch.end`).
    static func main() {
        Launch.silenceSecondaryOutput()
        var code: Int32 = 0
        do {
            var command = try parseAsRoot()
            if Launch.isMPI && (command is Sample || command is Eval || command is Report) {
                throw CLIError(ExitStatus.usage, "only `gen train gan|vae` and `gen bench` run under mpirun (data-parallel training); run this command without it")
            }
            try command.run()
        } catch {
            code = Failure.report(error)
        }
        Launch.end(code: code)
        if code != 0 { Foundation.exit(code) }
    }
}
