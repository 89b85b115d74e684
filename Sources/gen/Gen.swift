import ArgumentParser

/// `gen`: train, sample from and benchmark the project's generative models.
@main
struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Train GANs and VAEs on MNIST (or any vector data) with OpenBLAS.",
        subcommands: [Train.self, Sample.self, Eval.self, Report.self, Bench.self])
}
