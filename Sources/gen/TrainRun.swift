import ArgumentParser
import Datasets
import Distributed
import Foundation
import Generative
import NN
import Linalg
import Training

/// `gen train gan|vae`: the flags become a `TrainingLoop`; this adds the console, the signal
/// handlers, the sample grids, `--eval-every` and the report.
struct TrainRun {
    let command: Train

    func run() throws {
        let group = try Launch.start()
        let split = try batchSplitGroup()
        // Under mpirun every rank builds its part; a failure of any stops all (Launch.agreeing).
        let (loop, quality) = try Launch.agreeing { () throws -> (TrainingLoop, QualityHook) in
            // Inputs first: a missing classifier fails before the data are read.
            if command.evalEvery != nil || command.targetFid != nil { _ = try InputPaths.classifier(command.classifier) }
            let (loop, reference) = try makeLoop(group ?? split?.member(0))
            // Rank 0 alone evaluates (and decides --target-fid for all).
            let quality = QualityHook(every: loop.isWriter ? command.evalEvery : nil,
                                      targetFID: loop.isWriter ? command.targetFid : nil,
                                      reference: reference, job: loop.job, seed: loop.config.seed)
            return (loop, quality)
        }
        loop.nonFinitePolicy = command.onNonfinite
        let replicas = try split.map { try BatchSplitReplicas(group: $0, first: loop) }
        let c = loop.config
        if let checkpoint = loop.resumedFrom {
            print("resuming \(loop.directory.url.path) from \(checkpoint.lastPathComponent): epoch \(loop.epoch), batch \(loop.batchInEpoch), step \(loop.job.step)")
        } else {
            print("run directory: \(loop.directory.url.path)")
        }
        print("\(c.model): \(c.summary); \(loop.data.count) training samples from \(loop.data.source); batch \(c.batchSize); seed \(c.seed); \(Self.count(c.threads, "thread"))")
        if let g = group {
            print("data-parallel: \(g.size) processes x \(Self.count(c.threads, "thread")), each global batch of \(c.batchSize) split into \(g.size) shares of \(Self.shares(c.batchSize, g.size)) rows; rank 0 writes the run")
        }
        if let s = split {
            print("batch-split: \(s.size) threads, each a model replica on \(Self.shares(c.batchSize, s.size)) of the \(c.batchSize) rows of a batch, single-threaded gemm")
        }
        if loop.epoch > c.epochs {
            print("nothing to do: \(Self.count(loop.epoch - 1, "epoch")) already trained (--epochs \(c.epochs); give a larger one to train on)")
            return
        }
        installStopHandlers()
        let console = TrainConsole(loop: loop, quality: quality)
        let outcome: TrainingOutcome
        Launch.training = true
        replicas?.start()
        do {
            // Ranks other than 0 only follow the stop flag (rank 0 prints and writes).
            outcome = try loop.run(loop.isWriter ? console.callbacks() : TrainConsole.secondaryCallbacks())
            Launch.training = false
        } catch let e as NonFiniteStop {
            // Every rank saw the same reduced NaN: all stop here alike.
            Launch.training = false
            replicas?.wait()
            console.progress.clear()
            // A resume needs a checkpoint; before the first there is nothing to continue.
            let next = loop.directory.newestCheckpoint == nil
                ? "no checkpoint was written yet: start the run again, e.g. with a smaller --lr"
                : "resume with: \(Invocation.resume(loop.directory.url, options: resumeOptions))"
            throw CLIError(ExitStatus.failure, "\(e) (\(next); --on-nonfinite skip skips such batches)")
        }
        replicas?.wait()
        try finish(loop, outcome, console: console, quality: quality)
    }

    /// Flags of this invocation a resume should repeat: config.json keeps the run's settings
    /// (threads and threading included) as the run started, so a `--threading` given here (a
    /// resume that changed it, or a run from before config.json recorded it) is repeated, and
    /// so are the settings a resume may change (`--epochs`, `--threads`, `--sample-every`,
    /// `--log-every`, `--keep-checkpoints`) when this invocation is itself a resume: without
    /// them, the hint after an interrupted `--resume R --epochs 40` would end the run at the
    /// epochs it started with.
    private var resumeOptions: [String] {
        var options = command.threading.map { ["--threading", $0.rawValue] } ?? []
        guard command.resume != nil else { return options }
        let changed: [(String, Int?)] = [("--epochs", command.epochs), ("--threads", command.threads),
                                         ("--sample-every", command.sampleEvery), ("--log-every", command.logEvery),
                                         ("--keep-checkpoints", command.keepCheckpoints)]
        for case let (flag, value?) in changed { options += [flag, String(value)] }
        return options
    }

    /// "1 thread", "2 threads".
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// `n`'s share of `b` rows: `b/n`, or `b/n-(b/n+1)` when uneven.
    static func shares(_ b: Int, _ n: Int) -> String { "\(b / n)" + (b % n == 0 ? "" : "-\(b / n + 1)") }

    /// `--threading batch-split` (or, resuming without `--threading` outside mpirun, the
    /// threading the run's config.json records): the threads as ranks of one group (nil for one
    /// thread or split). A resumed run keeps its threads unless `--threads` is given.
    private func batchSplitGroup() throws -> ThreadProcessGroup? {
        // A config.json that cannot be read fails in makeLoop, with its message.
        let recorded = command.resume.flatMap { try? RunConfig.read(runDirectory: URL(fileURLWithPath: $0)) }
        let threading = command.threading
            ?? (Launch.isMPI ? nil : recorded?.threading.flatMap(RunConfig.Threading.init(rawValue:)))
        guard threading == .batchSplit else { return nil }
        if Launch.isMPI {
            throw CLIError(ExitStatus.usage, "--threading batch-split does not combine with mpirun: start more processes instead")
        }
        let threads = command.threads ?? recorded?.threads ?? min(BLASThreads.processors, RunConfig.maxThreads)
        return threads > 1 ? ThreadProcessGroup(size: threads) : nil
    }

    /// The run's loop (a new run from the flags, or the resumed one with the flags that may
    /// change), and the FID reference of `--eval-every`/`--target-fid` (rank 0 only;
    /// nil without them): built from the data before a new run's directory is written, so a
    /// malformed classifier, or one of another input width, leaves nothing behind.
    private func makeLoop(_ group: (any ProcessGroup)?) throws -> (TrainingLoop, FIDReference?) {
        let evaluates = (group?.rank ?? 0) == 0
        func reference(_ data: Dataset) throws -> FIDReference? {
            try QualityHook.reference(every: evaluates ? command.evalEvery : nil,
                                      targetFID: evaluates ? command.targetFid : nil,
                                      classifier: command.classifier.map { URL(fileURLWithPath: $0) }, data: data)
        }
        do {
            guard let resume = command.resume else { return try makeNewLoop(group, reference: reference) }
            let dir = URL(fileURLWithPath: resume)
            try InputPaths.requireDirectory(dir, flag: "--resume")
            var config = try RunConfig.read(runDirectory: dir)
            if let m = command.model, m.rawValue != config.model {
                throw ValidationError("--resume \(resume) is a \(config.model) run, not \(m.rawValue)")
            }
            if let e = command.epochs { config.epochs = e }
            if let t = command.threads {
                config.threads = t
            } else if Launch.isMPI {
                // The run's threads were for its own processes; share this host's processors.
                config.threads = min(Launch.defaultThreads, RunConfig.maxThreads)
            }
            if let s = command.sampleEvery { config.sampleEvery = s }
            if let s = command.logEvery { config.logEvery = s }
            if let k = command.keepCheckpoints { config.keepCheckpoints = k }
            try checkDefaultData(config)
            // A resume writes nothing when it starts (it only recreates a missing samples/ or
            // checkpoints/): the reference can follow the loop.
            let loop = try TrainingLoop.resume(dir, config: config, processGroup: group)
            return (loop, try reference(loop.data))
        } catch let e as RunDirectoryError {
            throw CLIError(ExitStatus.cannotCreate, Self.outMessage(e))
        }
    }

    /// `makeLoop` for a new run: the config from the flags, the data, then (before the run
    /// directory is written) the FID reference.
    private func makeNewLoop(_ group: (any ProcessGroup)?,
                             reference: (Dataset) throws -> FIDReference?) throws -> (TrainingLoop, FIDReference?) {
        var config = try command.makeConfig()
        try InputPaths.requireExisting(config.data, flag: "--data")
        try InputPaths.requireExisting(config.labels, flag: "--labels")
        try checkDefaultData(config)
        let data = try config.loadData()
        for note in data.notes { print("note: \(note)") }
        if config.vae != nil && command.likelihood == nil && command.arch != .conv && !Self.isImageData(data) {
            applyRealValuedDefaults(&config, data: data)
        }
        if config.gan != nil && command.arch != .dcgan && !Self.isImageData(data) {
            applyRealValuedGANDefaults(&config, data: data)
        }
        if !command.conditional && (config.labels != nil || config.labelColumn != nil) {
            print("note: the labels are read (and checked) but an unconditional model does not use them; add --conditional to condition on them")
        }
        if command.conditional {
            guard let k = data.numClasses else {
                throw CLIError(ExitStatus.dataError, "--conditional: \(data.source) has no labels (give --labels FILE.npy or --label-column N)")
            }
            guard k <= RunConfig.maxClasses else {
                throw CLIError(ExitStatus.dataError, "--conditional: \(data.source) has labels up to \(k - 1): more than \(RunConfig.maxClasses) classes (a stray label? declare them with --classes)")
            }
            config.gan?.numClasses = k
            config.vae?.numClasses = k
        }
        if let g = group, let p = DataParallel.problem(batchSize: config.batchSize, samples: data.count, processes: g.size) {
            throw CLIError(ExitStatus.usage, p)
        }
        let quality = try reference(data)
        let out = URL(fileURLWithPath: command.out ?? RunDirectory.defaultPath(model: config.model))
        return (try TrainingLoop(config: config, directory: out, data: data, processGroup: group), quality)
    }

    /// The VAE's settings for real-valued, non-image data (flags given keep their values): a
    /// Gaussian decoder, hidden 128,128, latent min(D, 20), 60 epochs, and KL warm-up over the
    /// first 40 % of the steps. Measured on the 8-Gaussian ring (10,000 points, seed 1): all 8
    /// modes within 3 std by the decoded means, KL 4.05 nats, MMD² 0.008; without warm-up 2 of
    /// 8 modes and KL 2.3; with the MNIST defaults (400, latent 20, 10 epochs) KL 0.1.
    private func applyRealValuedDefaults(_ config: inout RunConfig, data: Dataset) {
        config.vae?.likelihood = .gaussian
        if command.hidden == nil { config.vae?.hidden = [128, 128] }
        if command.latentDim == nil { config.vae?.latentDim = min(data.sampleSize, 20) }
        if command.epochs == nil { config.epochs = 60 }
        let steps = config.epochs * ((data.count + config.batchSize - 1) / config.batchSize)
        if command.klWarmup == nil { config.vae?.klWarmupSteps = max(1, steps * 2 / 5) }
        let v = config.vae!
        print("note: real-valued, non-image data: a VAE with a Gaussian decoder, hidden \(v.hidden.map(String.init).joined(separator: ",")), latent \(v.latentDim), \(config.epochs) epochs, KL warm-up over \(v.klWarmupSteps ?? 0) steps (flags override; --likelihood bernoulli for the image defaults)")
    }

    /// The GAN's settings for real-valued, non-image data (flags given keep their values): the
    /// minimax loss, latent min(D, 20), hidden 128,128, samples from a moving average of G
    /// (0.999), 100 epochs. Measured on the 8-Gaussian ring (10,000 points; modes within 3 std
    /// holding >= 1 % of 10,000 samples): seed 1 (the default) 8 of 8 modes, seeds 2-4: 7, 8, 6;
    /// the non-saturating loss with the same settings 6 of 8 (4-6 over 8 settings tried).
    ///
    /// `--loss wasserstein` (WGAN-GP) gets the toy settings of Gulrajani et al.'s gan_toy.py —
    /// λ 0.1, three hidden layers (256 each here) — with Adam lr 3e-4 and 300 epochs: seeds
    /// 1, 2, 3 all 8 of 8 modes (51-60 % of samples within 3 std). With the image settings
    /// (λ 10, lr 1e-4, 128,128) 0 of 8; λ 0.1 with 128,128 or lr 1e-4: 4-6 of 8.
    private func applyRealValuedGANDefaults(_ config: inout RunConfig, data: Dataset) {
        if command.loss == nil { config.gan?.loss = .minimax }
        let wgan = config.gan?.loss == .wasserstein && config.gan?.gradientPenalty != nil
        if command.latentDim == nil { config.gan?.latentDim = min(data.sampleSize, 20) }
        if command.hidden == nil {
            let widths = wgan ? [256, 256, 256] : [128, 128]
            config.gan?.generatorHidden = widths
            config.gan?.discriminatorHidden = widths
        }
        if wgan {
            if command.gradientPenalty == nil { config.gan?.gradientPenalty = 0.1 }
            if command.lr == nil { config.gan?.learningRate = 3e-4 }
        }
        if command.emaDecay == nil { config.gan?.emaDecay = 0.999 }
        if command.epochs == nil { config.epochs = wgan ? 300 : 100 }
        let g = config.gan!
        let penalty = wgan ? " (gradient penalty λ \(g.gradientPenalty ?? 0), Adam lr \(g.learningRate))" : ""
        print("note: real-valued, non-image data: a GAN with the \(g.loss.rawValue) loss\(penalty), latent \(g.latentDim), hidden \(g.generatorHidden.map(String.init).joined(separator: ",")), G's moving average \(g.emaDecay.map { "\($0)" } ?? "off"), \(config.epochs) epochs (flags override)")
    }

    /// Images (MNIST, or at least 64 values per sample making a square) get a Bernoulli decoder.
    static func isImageData(_ data: Dataset) -> Bool {
        if case .bytes = data.train { return true }
        return data.imageShape != nil && data.sampleSize >= 64
    }

    /// The library's default data (the shipped data/mnist) is not found: say where it looked.
    func checkDefaultData(_ config: RunConfig) throws {
        if config.data == nil { _ = try InputPaths.defaultMNIST() }
    }

    /// A refused run directory, in terms of the flags.
    static func outMessage(_ e: RunDirectoryError) -> String {
        let path = e.directory.path
        switch e {
        case .notADirectory: return "--out \(path): exists and is not a directory"
        case .cannotCreate(_, let why): return "--out \(path): cannot create the run directory: \(why)"
        case .holdsARun: return "--out \(path): already holds a run (resume it with: \(Invocation.resume(e.directory)); or choose another --out)"
        case .cannotWriteConfig(_, let why): return "--out \(path): \(why)"
        }
    }

    /// After the loop: the interruption message and exit code, or the early-stop line, the
    /// report and the closing line.
    private func finish(_ loop: TrainingLoop, _ outcome: TrainingOutcome, console: TrainConsole,
                        quality: QualityHook) throws {
        let runDir = loop.directory.url
        switch outcome {
        case .interrupted(let i):
            console.progress.clear()
            // The signal of this rank, or under mpirun the one any rank received.
            let sig = try Launch.agreedSignal(stopSignal.load(ordering: .relaxed))
            guard loop.isWriter else { throw ExitCode(ExitStatus.interrupted(by: sig)) }
            // The report of the run so far, as after a completed one.
            do { try RunReport.write(runDirectory: runDir) } catch { printWarning("report.html not written: \(error)") }
            print("interrupted by \(sig == SIGINT ? "SIGINT" : "SIGTERM") at epoch \(i.epoch), batch \(i.batch)/\(i.batches), step \(i.step); checkpoint \(i.checkpoint.path)")
            print("resume with: \(Invocation.resume(runDir, options: resumeOptions))")
            if Launch.isMPI {
                print("(add the mpirun options this run used, e.g. --hostfile; any number of processes, or none, continues it)")
            }
            throw ExitCode(ExitStatus.interrupted(by: sig))
        case .stoppedEarly(let epoch):
            print("target FID \(fmt(quality.targetFID ?? 0, 3)) reached after epoch \(epoch): stopping early")
        case .completed, .nothingToDo:
            break
        }
        guard loop.isWriter else { return }
        do { try RunReport.write(runDirectory: runDir) } catch { printWarning("report.html not written: \(error)") }
        print("done: \(runDir.path) (samples/, metrics.csv, checkpoints/, report.html)")
    }
}
