import ArgumentParser
import Datasets
import Foundation
import Generative
import Linalg
import Training

extension GANLoss: ExpressibleByArgument {}
extension VAELikelihood: ExpressibleByArgument {}
extension GANLearningRateSchedule: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}

/// `gen train gan|vae`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a GAN, a VAE or the reference classifier; writes config.json, metrics.csv, samples/ and checkpoints/ into the run directory.")

    enum Model: String, ExpressibleByArgument, CaseIterable { case gan, vae, classifier }
    /// `--arch`: gan mlp|dcgan, vae mlp|conv.
    enum Arch: String, ExpressibleByArgument, CaseIterable { case mlp, dcgan, conv }

    @Argument(help: "gan, vae, or classifier (the reference MNIST classifier of `gen eval`); omit with --resume.")
    var model: Model?

    @Option(parsing: .unconditional, help: "Epochs to train (total, also when resuming). Default: gan 30 (dcgan 14), vae 10, classifier 15.")
    var epochs: Int?
    @Option(parsing: .unconditional, help: "Samples per mini-batch (the last partial batch of an epoch is kept). Default: \(TrainDefaults.batchSize) (dcgan 64).")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "Learning rate. Default: gan Adam 1e-3 (dcgan 5e-4, WGAN-GP Adam 1e-4), vae Adam 1e-3, classifier Adam 1e-3 with cosine annealing.")
    var lr: Float?
    @Option(parsing: .unconditional, help: "Adam beta1. Default: gan 0.5 (DCGAN; 0 with the wasserstein loss, as WGAN-GP), vae 0.9.")
    var beta1: Float?
    @Option(parsing: .unconditional, help: "Adam beta2. Default: 0.999 (gan with the wasserstein loss: 0.9, as WGAN-GP).")
    var beta2: Float?
    @Option(parsing: .unconditional, help: "Latent size. Default: gan 100, vae 20 (conditional vae 8, conditional conv vae 10).")
    var latentDim: Int?
    @Option(parsing: .unconditional, help: "Hidden widths, comma-separated, input side first (gan: the generator's; the discriminator mirrors them). Default: gan 128, vae 400 (conditional MLP vae 768), classifier 512,256.")
    var hidden: String?
    @Option(help: "Architecture: gan mlp (default) or dcgan (convolutional, 28x28; lr 5e-4, batch 64, 14 epochs, G EMA 0.999, --hidden = G channels, D mirrors them, default 128,64); vae mlp (default) or conv (--hidden = channels, default 32,64).")
    var arch: Arch?
    @Option(help: "GAN learning-rate schedule: constant or cosine (annealed to 0 over the run's epochs). Default: constant.")
    var lrSchedule: GANLearningRateSchedule?
    @Option(parsing: .unconditional, help: "GAN: decay of the moving average of the generator's weights that samples and evaluation use; 0 turns it off. Default: off (dcgan and non-image data 0.999).")
    var emaDecay: Float?
    @Option(help: "GAN loss: minimax, non-saturating (default) or wasserstein.")
    var loss: GANLoss?
    @Option(parsing: .unconditional, help: "Seed of every random generator of the run. Default: \(TrainDefaults.seed).")
    var seed: UInt64?
    @Option(parsing: .unconditional, help: "Threads, at most 256 (gan/vae: gemm rows and Adam split over persistent worker threads, OpenBLAS single-threaded; classifier: OpenBLAS's own threads). Default: all processors (under mpirun: the processors divided by the processes on the host).")
    var threads: Int?
    @Option(help: "gan/vae: how the threads share a step: split (every gemm's rows split over them) or batch-split (each thread a model replica training on its share of the batch with single-threaded gemm, gradients summed; the same run, faster for small models: README, Performance). Recorded in config.json: --resume keeps it unless given. Default: split.")
    var threading: RunConfig.Threading?
    @Option(help: "Training data: a directory of MNIST IDX files (.gz or raw), a .npy (N x D, any float or integer dtype) or a .csv of numeric rows (values in [0, 1] as they are, 0-255 images divided by 255, others min-max scaled per column; README). Default: the shipped data/mnist, found from any directory (see README: $GEN_HOME, the current directory, the executable's location).")
    var data: String?
    @Option(parsing: .unconditional, help: "Use only the first N training samples. Default: all.")
    var limit: Int?
    @Option(help: "VAE decoder: bernoulli (images in [0, 1]) or gaussian (a mean and variance per value, for real-valued data). Default: bernoulli for images (MNIST, or 64+ values per sample in a square), gaussian for other data (with a note).")
    var likelihood: VAELikelihood?
    @Option(parsing: .unconditional, help: "GAN, --loss wasserstein: λ of the WGAN-GP gradient penalty. Default: 10 (Gulrajani et al. 2017); 0.1 on real-valued, non-image data (their toy setting).")
    var gradientPenalty: Float?
    @Option(parsing: .unconditional, help: "GAN, --loss wasserstein: clip the critic's weights to [-c, c] instead of the gradient penalty: the original WGAN (Arjovsky et al. 2017: c 0.01, RMSprop 5e-5, 5 critic steps), kept for fidelity to the paper (it does not learn MNIST with this MLP). Default: off (WGAN-GP).")
    var weightClip: Float?
    @Option(parsing: .unconditional, help: "VAE: KL warm-up over the first N steps (the KL term's gradient scaled by step/N); 0 turns it off. Default: off (real-valued non-image data: 40 % of the run's steps).")
    var klWarmup: Int?
    @Flag(help: "Conditional model: G and D (VAE: encoder and decoder) also see the class label, one-hot (Mirza & Osindero 2014; Sohn et al. 2015); per-epoch samples become class grids (one row per class). Needs labelled data: MNIST, --labels or --label-column.")
    var conditional = false
    @Option(help: "Class labels of a .npy or .csv --data: a .npy of N whole numbers (any integer dtype), one per sample.")
    var labels: String?
    @Option(parsing: .unconditional, help: "Class labels of a .csv --data: its N-th column (1-based; Kaggle's MNIST CSV: 1), taken out of the features.")
    var labelColumn: Int?
    @Option(parsing: .unconditional, help: "Number of classes K (every label must be 0...K-1). Default: the largest label + 1 (MNIST: 10).")
    var classes: Int?
    @Option(help: "Run directory. Default: runs/<model>-<date>-<time>.")
    var out: String?
    @Option(parsing: .unconditional, help: "Write a sample grid every N epochs (and after the last). Default: \(TrainDefaults.sampleEvery).")
    var sampleEvery: Int?
    @Option(parsing: .unconditional, help: "Write a metrics.csv row every N steps. Default: \(TrainDefaults.logEvery).")
    var logEvery: Int?
    @Option(parsing: .unconditional, help: "Checkpoints kept in checkpoints/ (newest). Default: \(TrainDefaults.keepCheckpoints).")
    var keepCheckpoints: Int?
    @Option(help: "Continue the run in this directory from its newest checkpoint.")
    var resume: String?
    @Option(help: "On a NaN/inf loss or gradient: stop (default; the last checkpoint is kept) or skip the batch (its update is not applied; counted in metrics.csv `skipped`).")
    var onNonfinite: NonFinitePolicy = .stop
    @Option(parsing: .unconditional, help: "Clip each network's gradients to total L2 norm X before every update (PyTorch's clip_grad_norm_). Default: no clipping.")
    var clipNorm: Float?
    @Option(parsing: .unconditional, help: "Every N epochs, evaluate sample quality with the reference classifier (FID, classes covered; VAE: IWAE k=1/64 on a test subset) into metrics.csv. Default: off.")
    var evalEvery: Int?
    @Option(parsing: .unconditional, help: "Stop training once the FID falls below X (implies --eval-every 1 unless given). Default: off.")
    var targetFid: Double?
    @Option(help: "Reference classifier for --eval-every. Default: the shipped models/mnist-classifier.safetensors, found like --data.")
    var classifier: String?

    func validate() throws {
        if resume == nil && model == nil { throw ValidationError("give a model (gan or vae) or --resume RUN_DIR") }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1, got \(e)") }
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, got \(b)") }
        if let l = latentDim, l < 1 { throw ValidationError("--latent-dim must be at least 1, got \(l)") }
        if let t = threads, !(1...RunConfig.maxThreads).contains(t) {
            throw ValidationError("--threads must be in 1...\(RunConfig.maxThreads), got \(t)")
        }
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1, got \(n)") }
        try validateLabels()
        if let s = sampleEvery, s < 1 { throw ValidationError("--sample-every must be at least 1, got \(s)") }
        if let s = logEvery, s < 1 { throw ValidationError("--log-every must be at least 1, got \(s)") }
        if let k = keepCheckpoints, k < 1 { throw ValidationError("--keep-checkpoints must be at least 1, got \(k)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let b = beta1, !(b >= 0 && b < 1) { throw ValidationError("--beta1 must be in [0, 1), got \(b)") }
        if let b = beta2, !(b >= 0 && b < 1) { throw ValidationError("--beta2 must be in [0, 1), got \(b)") }
        if let d = emaDecay, !(d >= 0 && d < 1) { throw ValidationError("--ema-decay must be in [0, 1), got \(d)") }
        if let c = clipNorm, !(c > 0 && c.isFinite) { throw ValidationError("--clip-norm must be a positive number, got \(c)") }
        if let h = hidden { _ = try parseHidden(h) }
        // URL(fileURLWithPath: "") is the current directory: the run would land in it.
        if let o = out, o.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--out must name a directory, got '\(o)'")
        }
        if let e = evalEvery, e < 1 { throw ValidationError("--eval-every must be at least 1, got \(e)") }
        if let t = targetFid, !(t > 0 && t.isFinite) { throw ValidationError("--target-fid must be a positive number, got \(t)") }
        if evalEvery != nil || targetFid != nil {
            // Checked here, before the run directory exists (the evaluation hook is built after
            // it, so these failures left a config.json without a run); the classifier file is
            // looked for in TrainRun.run, also before (a missing input is exit 66, not 64).
            if let d = data, ["npy", "csv"].contains(URL(fileURLWithPath: d).pathExtension.lowercased()) {
                throw ValidationError("--eval-every/--target-fid need MNIST data with its test set, not \(d)")
            }
        }
        if model == .classifier && (evalEvery != nil || targetFid != nil || resume != nil) {
            throw ValidationError("--eval-every, --target-fid and --resume do not apply to the classifier")
        }
        if model == .classifier && clipNorm != nil {
            throw ValidationError("--clip-norm does not apply to the classifier")
        }
        if resume != nil {
            let fixed: [(String, Bool)] = [
                ("--batch-size", batchSize != nil), ("--lr", lr != nil), ("--beta1", beta1 != nil),
                ("--beta2", beta2 != nil), ("--latent-dim", latentDim != nil), ("--hidden", hidden != nil),
                ("--loss", loss != nil), ("--lr-schedule", lrSchedule != nil), ("--ema-decay", emaDecay != nil), ("--arch", arch != nil), ("--seed", seed != nil), ("--data", data != nil),
                ("--limit", limit != nil), ("--out", out != nil), ("--clip-norm", clipNorm != nil),
                ("--conditional", conditional), ("--labels", labels != nil), ("--label-column", labelColumn != nil),
                ("--classes", classes != nil), ("--likelihood", likelihood != nil), ("--kl-warmup", klWarmup != nil), ("--gradient-penalty", gradientPenalty != nil), ("--weight-clip", weightClip != nil)]
            if let f = fixed.first(where: { $0.1 }) {
                throw ValidationError("\(f.0) cannot change when resuming: the run's config.json fixes it")
            }
        }
    }

    /// `path` made absolute against the current directory, so config.json names the same file
    /// when the run is resumed or evaluated from another directory.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The label flags fit together and the data (before anything is read or written).
    func validateLabels() throws {
        if labels != nil && labelColumn != nil { throw ValidationError("give --labels or --label-column, not both") }
        if let c = labelColumn, c < 1 { throw ValidationError("--label-column is 1-based: at least 1, got \(c)") }
        if let k = classes, !(2...RunConfig.maxClasses).contains(k) {
            throw ValidationError("--classes must be in 2...\(RunConfig.maxClasses), got \(k)")
        }
        if model == .classifier && (labels != nil || labelColumn != nil) {
            throw ValidationError("--labels and --label-column apply to gan and vae (the classifier trains on MNIST's own labels)")
        }
        if (labels != nil || labelColumn != nil) && data == nil {
            throw ValidationError("--labels and --label-column go with a .npy or .csv --data (MNIST has its own labels)")
        }
        if conditional && model == .classifier { throw ValidationError("--conditional applies to gan and vae only") }
        if likelihood != nil && model != .vae { throw ValidationError("--likelihood applies to vae only") }
        if klWarmup != nil && model != .vae { throw ValidationError("--kl-warmup applies to vae only") }
        if let l = gradientPenalty, !(l > 0 && l.isFinite) { throw ValidationError("--gradient-penalty must be a positive number, got \(l)") }
        if let c = weightClip, !(c > 0 && c.isFinite) { throw ValidationError("--weight-clip must be a positive number, got \(c)") }
        if let k = klWarmup, k < 0 { throw ValidationError("--kl-warmup must be 0 or more steps, got \(k)") }
    }

    func parseHidden(_ s: String) throws -> [Int] {
        // Empty fields are kept so that "64,,32" or "64," is an error, not silently "64,32".
        let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(s)'")
        }
        return parts.map { $0! }
    }

    /// The run configuration from the flags, with each model's defaults.
    func makeConfig() throws -> RunConfig {
        let m = model!
        var cfg = RunConfig(model: m.rawValue, gan: nil, vae: nil,
                            epochs: epochs ?? [.gan: 30, .vae: 10, .classifier: 15][m]!, batchSize: batchSize ?? TrainDefaults.batchSize,
                            seed: seed ?? TrainDefaults.seed, threads: threads ?? min(Launch.isMPI ? Launch.defaultThreads : BLASThreads.processors, RunConfig.maxThreads),
                            data: data.map(Train.absolute), limit: limit, sampleEvery: sampleEvery ?? TrainDefaults.sampleEvery,
                            logEvery: logEvery ?? TrainDefaults.logEvery,
                            keepCheckpoints: keepCheckpoints ?? (m == .classifier ? 1 : TrainDefaults.keepCheckpoints),
                            clipNorm: clipNorm)
        (cfg.labels, cfg.labelColumn, cfg.classes) = (labels.map(Train.absolute), labelColumn, classes)
        cfg.threading = threading == .batchSplit ? RunConfig.Threading.batchSplit.rawValue : nil
        if m != .gan && (gradientPenalty != nil || weightClip != nil) {
            throw ValidationError("--gradient-penalty and --weight-clip apply to gan --loss wasserstein only")
        }
        switch m {
        case .gan:
            let g = try ganConfig()
            cfg.gan = g
            // The DCGAN's own defaults (the MLP's stay 30 epochs of batch 128).
            if epochs == nil { cfg.epochs = g.suggestedEpochs }
            if batchSize == nil { cfg.batchSize = g.suggestedBatchSize }
        case .vae:
            cfg.vae = try vaeConfig()
        case .classifier:
            if arch != nil { throw ValidationError("--arch applies to gan and vae only") }
            if lrSchedule != nil || emaDecay != nil { throw ValidationError("--lr-schedule and --ema-decay apply to gan only (the classifier anneals with cosine)") }
            var c = ClassifierConfig()
            if let lr { c.learningRate = lr }
            if let h = hidden { c.hidden = try parseHidden(h) }
            cfg.classifier = c
        }
        // The same limits as a config.json read back (sizes too large to allocate), checked
        // here so that flags like --hidden 100000000 fail before anything is written.
        if let p = cfg.problem { throw ValidationError("--hidden/--latent-dim: \(p)") }
        return cfg
    }

    /// The GAN section from the flags: the MLP's (or, for --loss wasserstein, WGAN-GP's) or the
    /// DCGAN's defaults, the clipping WGAN for --weight-clip, then the flags.
    private func ganConfig() throws -> GANConfig {
        guard arch != .conv else { throw ValidationError("--arch for gan: mlp or dcgan, got conv") }
        var g = GANConfig.standard(loss: loss ?? .nonSaturating)
        if arch == .dcgan {
            if loss == .wasserstein { throw ValidationError("--arch dcgan: --loss wasserstein is not supported (its discriminator has BatchNorm)") }
            g = GANConfig.dcgan()
            if let loss { g.loss = loss }
        }
        if let gradientPenalty {
            guard g.loss == .wasserstein else { throw ValidationError("--gradient-penalty applies to --loss wasserstein only") }
            g.gradientPenalty = gradientPenalty
        }
        if let weightClip {
            guard g.loss == .wasserstein else { throw ValidationError("--weight-clip applies to --loss wasserstein only") }
            guard gradientPenalty == nil else { throw ValidationError("--weight-clip and --gradient-penalty exclude each other (the original WGAN clips, WGAN-GP penalises)") }
            g = GANConfig.wassersteinClipping()
            g.clipValue = weightClip
        }
        if let lr { g.learningRate = lr }
        if let lrSchedule { g.lrSchedule = lrSchedule }
        if let emaDecay { g.emaDecay = emaDecay == 0 ? nil : emaDecay }
        if let beta1 { g.beta1 = beta1 }
        if let beta2 { g.beta2 = beta2 }
        if let latentDim { g.latentDim = latentDim }
        if let h = hidden {
            g.generatorHidden = try parseHidden(h)
            g.discriminatorHidden = g.generatorHidden.reversed()
        }
        return g
    }

    /// The VAE section from the flags: the MLP's, conv's or conditional defaults, then the flags.
    private func vaeConfig() throws -> VAEConfig {
        if loss != nil { throw ValidationError("--loss applies to gan only") }
        if lrSchedule != nil || emaDecay != nil { throw ValidationError("--lr-schedule and --ema-decay apply to gan only") }
        guard arch != .dcgan else { throw ValidationError("--arch for vae: mlp or conv, got dcgan") }
        // The class count comes from the data (TrainRun); 10 until then.
        var v = arch == .conv ? VAEConfig.conv() : conditional ? VAEConfig.conditional(classes: 10) : VAEConfig()
        // The conditional conv VAE: latent 10 (test -ELBO 96.86, label accuracy 97.5 % after
        // 10 epochs, seed 1; see VAEConfig.conditional for why a smaller latent).
        if arch == .conv && conditional { v.latentDim = 10 }
        if let lr { v.learningRate = lr }
        if let beta1 { v.beta1 = beta1 }
        if let beta2 { v.beta2 = beta2 }
        if let latentDim { v.latentDim = latentDim }
        if let h = hidden { v.hidden = try parseHidden(h) }
        v.likelihood = likelihood
        if let k = klWarmup { v.klWarmupSteps = k == 0 ? nil : k }
        return v
    }

    /// Failures propagate to `Gen.main`, which prints them and picks the exit code.
    func run() throws {
        if model == .classifier {
            if threading != nil { throw ValidationError("--threading applies to gan and vae only") }
            if Launch.isMPI { throw CLIError(ExitStatus.usage, "the classifier does not train under mpirun; run `gen train classifier` without it") }
            try trainClassifier()
            return
        }
        try TrainRun(command: self).run()
    }
}
