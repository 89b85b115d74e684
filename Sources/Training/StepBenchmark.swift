import Datasets
import Dispatch
import Generative
import Linalg

/// Steady-state training throughput of the reference models on real MNIST batches (`gen
/// bench`): warm-up steps, then timed steps, then steps whose heap allocations are counted.
///
/// A sample is one real image through one full D+G step (GAN) or one image through
/// forward+backward+Adam (VAE). FLOPs count 2·m·n·k per gemm the trainer runs in a step
/// (`flopsPerStep(batch:)`); element-wise work is not counted.
public enum StepBenchmark {
    /// The models `gen bench` knows.
    public enum Model: String, CaseIterable, Sendable {
        case gan, vae, ganLarge = "gan-large", dcgan, vaeConv = "vae-conv"
        /// The conditional MLP GAN and VAE (10 classes; the VAE `VAEConfig.conditional`, with its
        /// learned prior): the labels of each batch are gathered with it.
        case ganConditional = "gan-conditional", vaeConditional = "vae-conditional"

        var isVAE: Bool { self == .vae || self == .vaeConv || self == .vaeConditional }
    }

    public struct Result: Sendable {
        public var samplesPerSec: Double
        public var gflops: Double
        public var flopsPerStep: Double
        /// Heap allocations per steady-state step as `countAllocations` reports them; nil
        /// without a counter or when it reports nil (inactive).
        public var allocationsPerStep: Double?
    }

    /// Times `steps` training steps of `model` (batch `batchSize`, full batches drawn from
    /// `train` in a fixed shuffled order, the gather included) after `warmup` untimed ones; then
    /// runs 50 more inside `countAllocations`, which returns the heap allocations it saw
    /// (nil: not counting).
    /// - Precondition: `1 <= batchSize <= train.count`, `steps >= 1`, `warmup >= 0`.
    /// - Throws: the trainer's errors (a non-finite loss or gradient).
    public static func run(_ model: Model, train: LabeledImages, batchSize: Int, warmup: Int, steps: Int,
                           countAllocations: ((() throws -> Void) throws -> Int?)? = nil) throws -> Result {
        var rng = Xoshiro256(seed: 42)
        var sampler = BatchSampler(count: train.count, batchSize: batchSize, dropLast: true)
        sampler.startEpoch(rng: &rng)
        var batch = Matrix.empty
        var labels: [Int32] = []
        var b = 0
        let scaling: PixelScaling = model.isVAE ? .unit : .symmetric
        let (update, flops) = try trainer(model, batchSize: batchSize, rng: &rng)
        // Steps cycle through an epoch of real batches; the gather is part of the timed step.
        let step: () throws -> Void = {
            let indices = sampler.batchIndices(b)
            gatherBatch(from: train.images, sampleSize: train.sampleSize, indices: indices,
                        scaling: scaling, into: &batch)
            labels.removeAll(keepingCapacity: true)
            for i in indices { labels.append(Int32(train.labels[i])) }
            b = (b + 1) % sampler.batchesPerEpoch
            try update(batch, labels)
        }
        for _ in 0..<warmup { try step() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let counted = 50
        let allocations = try countAllocations?({ for _ in 0..<counted { try step() } })
        return Result(samplesPerSec: Double(steps * batchSize) / secs,
                      gflops: flops * Double(steps) / secs / 1e9, flopsPerStep: flops,
                      allocationsPerStep: allocations.map { Double($0) / Double(counted) })
    }

    /// One optimisation step on a batch of `model`, and its FLOPs.
    private static func trainer(_ model: Model, batchSize: Int,
                                rng: inout Xoshiro256) throws -> ((Matrix, [Int32]) throws -> Void, Double) {
        switch model {
        case .gan, .ganLarge, .dcgan, .ganConditional:
            var config = [.gan: GANConfig.standard(), .ganLarge: .large(), .ganConditional: .standard()][model] ?? .dcgan()
            if model == .ganConditional { config.numClasses = 10 }
            let gan = try GAN(config: config, rng: &rng)
            // As GANJob: the DCGAN's step includes the update of G's moving average.
            if let decay = config.emaDecay { gan.averageGenerator(decay: decay) }
            let trainer = try GANTrainer(model: gan, config: config, rng: Xoshiro256(seed: 7))
            let conditional = config.numClasses != nil
            return ({ try trainer.step(real: $0, labels: conditional ? $1 : nil) }, trainer.flopsPerStep(batch: batchSize))
        case .vae, .vaeConv, .vaeConditional:
            let config = model == .vaeConv ? VAEConfig.conv() : model == .vaeConditional ? .conditional(classes: 10) : VAEConfig()
            let trainer = VAETrainer(model: try VAE(config: config, rng: &rng), config: config, rng: Xoshiro256(seed: 7))
            let conditional = config.numClasses != nil
            return ({ try trainer.step(batch: $0, labels: conditional ? $1 : nil) }, trainer.flopsPerStep(batch: batchSize))
        }
    }
}
