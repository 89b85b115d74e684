import Datasets
import Dispatch
import Generative
import Linalg
import NN

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
        /// Bytes a data-parallel step allreduces: every gradient of every update of the step
        /// (GAN: D's and G's groups; VAE: the model's), 4 bytes each.
        public var allreduceBytesPerStep: Int
    }

    /// Times `steps` training steps of `model` (batch `batchSize`, full batches drawn from
    /// `train` in a fixed shuffled order, the gather included) after `warmup` untimed ones; then
    /// runs 50 more inside `countAllocations`, which returns the heap allocations it saw
    /// (nil: not counting).
    ///
    /// With a `processGroup` (every process calling with the same arguments), each step is
    /// data-parallel as in `TrainingLoop`: the process trains on its rows of the global batch
    /// of `batchSize` and the gradients are summed by an allreduce; samples/s counts the
    /// global batch.
    /// - Precondition: `1 <= batchSize <= train.count`, `steps >= 1`, `warmup >= 0`, and
    ///   `batchSize >= processGroup.size`.
    /// - Throws: the trainer's errors (a non-finite loss or gradient), the group's.
    public static func run(_ model: Model, train: LabeledImages, batchSize: Int, warmup: Int, steps: Int,
                           processGroup: (any ProcessGroup)? = nil,
                           countAllocations: ((() throws -> Void) throws -> Int?)? = nil) throws -> Result {
        var rng = Xoshiro256(seed: 42)
        var sampler = BatchSampler(count: train.count, batchSize: batchSize, dropLast: true)
        sampler.startEpoch(rng: &rng)
        var batch = Batch()
        var parallel = processGroup.map { DataParallel(group: $0, columns: 0) }
        var labels: [Int32] = []
        var b = 0
        let scaling: PixelScaling = model.isVAE ? .unit : .symmetric
        let (update, flops, gradients) = try trainer(model, batchSize: batchSize, processGroup: processGroup, rng: &rng)
        // Steps cycle through an epoch of real batches; the gather is part of the timed step.
        let step: () throws -> Void = {
            let indices = sampler.batchIndices(b)
            gatherBatch(from: train.images, sampleSize: train.sampleSize, indices: indices,
                        scaling: scaling, into: &batch.x)
            labels.removeAll(keepingCapacity: true)
            for i in indices { labels.append(Int32(train.labels[i])) }
            b = (b + 1) % sampler.batchesPerEpoch
            guard parallel != nil else { return try update(batch.x, labels, nil) }
            // This process's rows of the global batch, as TrainingLoop hands them to a job.
            // (labels lent to the batch and taken back, so the array stays unshared: no copy.)
            batch.labels = labels
            defer { batch.labels = nil }
            try parallel!.withLocalBatch(of: batch) { try update($0.x, $0.labels ?? [], $0.shard) }
        }
        for _ in 0..<warmup { try step() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let counted = 50
        let allocations = try countAllocations?({ for _ in 0..<counted { try step() } })
        return Result(samplesPerSec: Double(steps * batchSize) / secs,
                      gflops: flops * Double(steps) / secs / 1e9, flopsPerStep: flops,
                      allocationsPerStep: allocations.map { Double($0) / Double(counted) },
                      allreduceBytesPerStep: 4 * gradients)
    }

    /// One optimisation step on a batch of `model`, and its FLOPs.
    private static func trainer(_ model: Model, batchSize: Int, processGroup: (any ProcessGroup)?,
                                rng: inout Xoshiro256) throws -> ((Matrix, [Int32], RowShard?) throws -> Void, Double, Int) {
        switch model {
        case .gan, .ganLarge, .dcgan, .ganConditional:
            var config = [.gan: GANConfig.standard(), .ganLarge: .large(), .ganConditional: .standard()][model] ?? .dcgan()
            if model == .ganConditional { config.numClasses = 10 }
            let gan = try GAN(config: config, rng: &rng)
            // As GANJob: the DCGAN's step includes the update of G's moving average.
            if let decay = config.emaDecay { gan.averageGenerator(decay: decay) }
            let trainer = try GANTrainer(model: gan, config: config, rng: Xoshiro256(seed: 7))
            if let g = processGroup { trainer.distribute(over: g) }
            let conditional = config.numClasses != nil
            return ({ try trainer.step(real: $0, labels: conditional ? $1 : nil, shard: $2) },
                    trainer.flopsPerStep(batch: batchSize), gan.discriminatorParameters.count + gan.generatorParameters.count)
        case .vae, .vaeConv, .vaeConditional:
            let config = model == .vaeConv ? VAEConfig.conv() : model == .vaeConditional ? .conditional(classes: 10) : VAEConfig()
            let trainer = VAETrainer(model: try VAE(config: config, rng: &rng), config: config, rng: Xoshiro256(seed: 7))
            if let g = processGroup { trainer.distribute(over: g) }
            let conditional = config.numClasses != nil
            return ({ try trainer.step(batch: $0, labels: conditional ? $1 : nil, shard: $2) },
                    trainer.flopsPerStep(batch: batchSize), trainer.model.parameterGroup.count)
        }
    }
}
