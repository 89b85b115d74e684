import Datasets
import Foundation
import Generative
import Linalg
import NN

/// The epoch loop of a run: data order, steps, metrics.csv, checkpoints and resume.
///
/// Build it for a new run (`init(config:directory:data:)`, or `init(config:directory:data:job:)`
/// with a model of one's own) or to continue one from its newest checkpoint
/// (`resume(_:config:data:job:)`), then call `run` once. Everything a run draws is
/// seeded from `config.seed` (see `GANJob.make`, `VAEJob.make`; the data order uses
/// `seed + 2`), so a run interrupted and resumed ends with the same weights and the same
/// metrics.csv loss columns as one that was not: a checkpoint holds the data-order generator
/// at the start of its epoch (the shuffle is replayed and the trained batches skipped), the
/// epoch's and the step window's metric sums, and the elapsed time.
///
/// The loop prints nothing and never exits: `TrainingCallbacks` supply displays, pictures,
/// extra metrics and stop requests.
public final class TrainingLoop {
    /// The run's configuration (with `dataDim` set from the data).
    public let config: RunConfig
    public let directory: RunDirectory
    public let data: Dataset
    public let job: any TrainingJob
    /// The checkpoint this run resumed from, or nil for a new run.
    public let resumedFrom: URL?
    /// What a non-finite loss or gradient does (default: stop with `NonFiniteStop`).
    public var nonFinitePolicy = NonFinitePolicy.stop
    /// The epoch `run` trains next (1-based), and the batches of it already trained.
    public private(set) var epoch = 1
    public private(set) var batchInEpoch = 0

    /// `job.stepColumns`, read once (a computed array would allocate on every step).
    private let columns: [String]
    private var dataRNG: Xoshiro256
    private var loader: DataLoader
    private var batch = Batch()
    private var values: [Double]
    private var running: RunningMetrics
    private var elapsedBefore = 0.0
    private var resumeStep: Int?
    private var metrics: MetricsLog?
    private var extraPadding: [Double] = []
    private var runStart = Date(), epochStart = Date(), windowStart = Date()
    /// Set in a data-parallel run (`processGroup`).
    private var parallel: DataParallel?

    /// The processes of a data-parallel run, nil for one process.
    public var processGroup: (any ProcessGroup)? { parallel?.group }
    /// Whether this process writes the run's files: the only one, or rank 0 of a data-parallel run.
    public var isWriter: Bool { parallel?.isWriter ?? true }

    /// Prepares a new run in `directory` (created, with config.json; refused when it already
    /// holds a run with checkpoints). `data` nil loads `config.data` (`Dataset.load`).
    /// - Throws: `RunError`, `RunDirectoryError`, `DatasetError`, the model's config errors.
    ///
    /// With a `processGroup`, this process is one of a data-parallel run (see
    /// `DataParallel`): every process builds the loop with the same arguments; rank 0 alone
    /// writes the run directory.
    public convenience init(config: RunConfig, directory: URL, data: Dataset? = nil,
                            processGroup: (any ProcessGroup)? = nil) throws {
        try self.init(config: config, directory: RunDirectory(directory), resume: nil, data: data,
                      processGroup: processGroup, makeJob: makeTrainingJob)
    }

    /// Prepares a new run of a job built by the caller — e.g. `GANJob(model:config:)` over
    /// one's own networks — in `directory`, as `init(config:directory:data:)`. The job's
    /// `kind` must be `config.model` and its `dataDim` (when not nil) the data's sample size.
    /// - Throws: `RunError` naming the mismatch, and as `init(config:directory:data:)`;
    ///   nothing is written when a check fails.
    public convenience init(config: RunConfig, directory: URL, data: Dataset? = nil, job: any TrainingJob,
                            processGroup: (any ProcessGroup)? = nil) throws {
        try self.init(config: config, directory: RunDirectory(directory), resume: nil, data: data,
                      processGroup: processGroup, makeJob: { _, _ in job })
    }

    /// Prepares to continue the run in `directory` from its newest checkpoint. `config` is the
    /// run's config.json (read when nil), possibly with epochs, threads or logging changed.
    /// `job` nil builds the job from the config (`makeTrainingJob`); a run started with a
    /// job of one's own passes a fresh one of the same architecture, as it was built for
    /// `init(config:directory:data:job:)`: the checkpoint's weights and state are loaded into it.
    /// - Throws: as `init`, and `CheckpointError` naming a missing or malformed checkpoint file.
    ///   A data-parallel run resumes with any number of processes (the global batch is the
    ///   same; each process reads the checkpoint).
    public static func resume(_ directory: URL, config: RunConfig? = nil, data: Dataset? = nil,
                              job: (any TrainingJob)? = nil,
                              processGroup: (any ProcessGroup)? = nil) throws -> TrainingLoop {
        let dir = RunDirectory(directory)
        let config = try config ?? RunConfig.read(runDirectory: directory)
        return try TrainingLoop(config: config, directory: dir, resume: try dir.resumePoint(), data: data,
                                processGroup: processGroup,
                                makeJob: job.map { j in { _, _ in j } } ?? makeTrainingJob)
    }

    /// Build: data, job (from the seed, or the caller's), run directory, then the checkpoint's state.
    private init(config: RunConfig, directory: RunDirectory, resume: (checkpoint: URL, state: TrainingState)?,
                 data: Dataset?, processGroup: (any ProcessGroup)?,
                 makeJob: (RunConfig, Dataset) throws -> any TrainingJob) throws {
        var config = config
        try config.gan?.validate()
        try config.vae?.validate()
        try config.classifier?.validate()
        let data = try data ?? config.loadData()
        try Self.fit(&config, to: data, resuming: resume != nil)
        job = try makeJob(config, data)
        try Self.check(job, fits: config, data)
        if let group = processGroup {
            try DataParallel.check(batchSize: config.batchSize, samples: data.count, processes: group.size)
            try job.distribute(over: group)
        }
        // One process writes at once; a data-parallel run only checks here and writes when it
        // starts (`run`), after every process has built its part (nothing left behind when
        // another process fails to).
        if processGroup == nil { try directory.prepare(config: config, resuming: resume != nil) }
        else { try directory.validate(resuming: resume != nil) }
        // Replicas that are threads of this process each run single-threaded gemm.
        BLASThreads.set(job.threading(threads: processGroup?.isInProcess == true ? 1 : config.threads))
        self.config = config
        self.directory = directory
        self.data = data
        resumedFrom = resume?.checkpoint
        dataRNG = Xoshiro256(seed: config.seed &+ 2)
        loader = DataLoader(data.train, batchSize: config.batchSize, scaling: job.scaling)
        columns = job.stepColumns
        values = [Double](repeating: .nan, count: columns.count)
        running = RunningMetrics(columns: columns.count)
        parallel = processGroup.map { DataParallel(group: $0, columns: columns.count) }
        if let (dir, state) = resume { try restore(from: dir, state: state) }
    }

    /// A job of the run's kind whose model takes the data's samples.
    private static func check(_ job: any TrainingJob, fits config: RunConfig, _ data: Dataset) throws {
        guard job.kind == config.model else {
            throw RunError("config: a \(config.model) run cannot train a \(job.kind) model")
        }
        if let dim = job.dataDim, dim != data.sampleSize {
            throw RunError("\(data.source): samples have \(data.sampleSize) values but the \(job.kind) model takes \(dim)")
        }
    }

    /// Checks `data` against `config` and sets the models' input width from it.
    private static func fit(_ config: inout RunConfig, to data: Dataset, resuming: Bool) throws {
        guard data.count >= 1 else { throw RunError("\(data.source): no training samples") }
        if let dim = config.gan?.dataDim ?? config.vae?.dataDim ?? config.classifier?.dataDim, resuming,
           dim != data.sampleSize {
            throw RunError("\(data.source): samples have \(data.sampleSize) values but the run was trained on \(dim)")
        }
        if let k = config.gan?.numClasses ?? config.vae?.numClasses, k != data.numClasses {
            throw RunError("\(data.source): " + (data.numClasses.map { "samples of \($0) classes" } ?? "samples without labels")
                + " for a conditional model of \(k) classes")
        }
        config.dataScaling = data.scaling
        config.gan?.dataDim = data.sampleSize
        config.vae?.dataDim = data.sampleSize
        config.classifier?.dataDim = data.sampleSize
        // The data fixes the input width: check the size limits again with it (a 1e6-column
        // .npy would otherwise train and then be refused on resume).
        if let problem = config.problem { throw RunError("\(data.source): \(problem)") }
    }

    /// Resume: weights, optimiser state and generators from checkpoint `dir`, the position in
    /// the epoch, and (from newer state.json files) the running metric sums and elapsed time.
    private func restore(from dir: URL, state: TrainingState) throws {
        let file = dir.appendingPathComponent("state.json").path
        guard state.model == config.model else {
            throw RunError("\(file): a \(state.model) checkpoint in a \(config.model) run")
        }
        try job.restore(from: dir, state: state)
        dataRNG = try generator(state.dataRNG, in: dir)
        epoch = state.epoch + 1
        batchInEpoch = state.batchInEpoch
        guard batchInEpoch <= loader.batchesPerEpoch else {
            throw RunError("\(file): batch \(batchInEpoch) is past the \(loader.batchesPerEpoch) batches of an epoch")
        }
        if let r = state.running {
            guard r.epoch.sums.count == job.stepColumns.count else {
                throw RunError("\(file): running sums have \(r.epoch.sums.count) columns, a \(job.kind) run has \(job.stepColumns.count)")
            }
            running = r
        }
        elapsedBefore = state.elapsedSeconds ?? 0
        resumeStep = state.step
    }

    /// Trains the remaining epochs. Call once.
    /// - Throws: `NonFiniteStop` (policy `.stop`), `RunError` for a checkpoint or metrics.csv
    ///   that cannot be written, and whatever the callbacks throw.
    public func run(_ callbacks: TrainingCallbacks = TrainingCallbacks()) throws -> TrainingOutcome {
        guard epoch <= config.epochs else { return .nothingToDo(epochsTrained: epoch - 1) }
        if parallel?.isWriter == true { try directory.prepare(config: config, resuming: resumedFrom != nil) }
        metrics = !isWriter ? nil : try MetricsLog(url: directory.metrics,
                                 columns: ["kind", "epoch", "step"] + job.stepColumns + job.evalColumns
                                     + ["samples_per_sec", "elapsed_s", "skipped"] + callbacks.extraColumns,
                                 keepUpToStep: resumeStep)
        extraPadding = [Double](repeating: .nan, count: callbacks.extraColumns.count)
        runStart = Date(timeIntervalSinceNow: -elapsedBefore)
        windowStart = Date()
        while epoch <= config.epochs {
            if let stop = try trainEpoch(callbacks) { return .interrupted(stop) }
            let stopEarly = try endEpoch(callbacks)
            epoch += 1
            if stopEarly { return .stoppedEarly(epoch: epoch - 1) }
        }
        return .completed
    }

    /// Trains epoch `epoch` from batch `batchInEpoch`; returns where it stopped when a stop
    /// was requested (after writing a checkpoint), nil at the end of the epoch.
    private func trainEpoch(_ callbacks: TrainingCallbacks) throws -> Interruption? {
        let epochStartRNG = dataRNG
        job.startEpoch(epoch - 1)
        loader.startEpoch(rng: &dataRNG, atBatch: batchInEpoch)
        epochStart = Date(timeIntervalSinceNow: -running.epochSeconds)
        while loader.next(into: &batch) {
            let stopAgreed = try trainBatch(callbacks)
            batchInEpoch = loader.position
            if let report = callbacks.step {
                let rate = Double(running.epoch.samples) / max(Date().timeIntervalSince(epochStart), 1e-9)
                report(StepReport(epoch: epoch, epochs: config.epochs, batch: batchInEpoch,
                                  batches: loader.batchesPerEpoch, step: job.step, samplesPerSecond: rate,
                                  columns: columns, sums: running.epoch))
            }
            if job.step % config.logEvery == 0 { logWindow() }
            if stopAgreed ?? (callbacks.stopRequested?() == true) { return try interrupt(epochStartRNG) }
        }
        batchInEpoch = 0
        return nil
    }

    /// One step on `batch`, its metrics added to the epoch's and the window's sums. Returns
    /// nil for one process; in a data-parallel run, whether any process asked to stop (read
    /// before the step's reduction, so all processes stop after the same step).
    private func trainBatch(_ callbacks: TrainingCallbacks) throws -> Bool? {
        var weight: Int?
        var skippedBy: NonFiniteError?
        do {
            weight = try trainStep()
        } catch let e as NonFiniteError {
            // The trainer applied no update from the bad loss/gradient (see its docs); in a
            // data-parallel run every process got the same NaN gradients and stops here too.
            guard nonFinitePolicy == .skip else {
                throw NonFiniteStop(error: e, lastCheckpoint: directory.newestCheckpoint)
            }
            skippedBy = e
        }
        var stop: Bool?
        if parallel != nil {
            // The global batch's weight: the job's weight of a step, or its rows.
            let global = weight.map { _ in job.weighsStepsEqually ? 1 : batch.count }
            (weight, stop) = try parallel!.reduce(&values, weight: global,
                                                  stop: callbacks.stopRequested?() == true)
        }
        if let weight {
            running.epoch.add(values, weight: weight)
            running.window.add(values, weight: weight)
        } else {
            running.epoch.skipped += 1
            running.window.skipped += 1
            if let skippedBy { callbacks.batchSkipped?(skippedBy) }
        }
        running.epoch.samples += batch.count
        running.window.samples += batch.count
        return stop
    }

    /// The job's step on the batch, or on this process's rows of it in a data-parallel run.
    private func trainStep() throws -> Int {
        guard parallel != nil else { return try job.trainStep(batch, values: &values) }
        return try parallel!.withLocalBatch(of: batch) { try job.trainStep($0, values: &values) }
    }

    /// A metrics.csv step row: the window's means since the last one.
    private func logWindow() {
        let secs = Date().timeIntervalSince(windowStart)
        let timing = [Double(running.window.samples) / max(secs, 1e-9), Date().timeIntervalSince(runStart),
                      Double(running.window.skipped)]
        metrics?.add(kind: "step", epoch: epoch, step: job.step,
                     values: running.window.means + [Double](repeating: .nan, count: job.evalColumns.count)
                         + timing + extraPadding)
        running.window.reset()
        windowStart = Date()
    }

    /// A stop requested mid-epoch: checkpoint with the epoch's starting data order and the
    /// batches done, and the metrics so far.
    private func interrupt(_ epochStartRNG: Xoshiro256) throws -> Interruption {
        running.epochSeconds = Date().timeIntervalSince(epochStart)
        let state = snapshot(epoch: epoch - 1, dataRNG: epochStartRNG, batchInEpoch: batchInEpoch)
        let dir = isWriter ? try directory.saveCheckpoint(job, state: state, config: config)
            : directory.checkpointURL(step: state.step)
        try metrics?.write()
        // The other processes return once rank 0's checkpoint is on disk.
        try parallel?.group.barrier()
        return Interruption(epoch: epoch, batch: batchInEpoch, batches: loader.batchesPerEpoch,
                            step: job.step, checkpoint: dir)
    }

    /// The job's training state with the running sums and elapsed time.
    private func snapshot(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState {
        var state = job.trainingState(epoch: epoch, dataRNG: dataRNG, batchInEpoch: batchInEpoch)
        state.running = running
        state.elapsedSeconds = Date().timeIntervalSince(runStart)
        return state
    }

    /// End of epoch: evaluation, the epoch row of metrics.csv, sample pictures when due, a
    /// checkpoint (older ones pruned). Returns whether `epochEnded` asked to stop.
    private func endEpoch(_ callbacks: TrainingCallbacks) throws -> Bool {
        let secs = Date().timeIntervalSince(epochStart)
        let rate = Double(running.epoch.samples) / max(secs, 1e-9)
        let eval = isWriter ? job.evaluate(data) : []
        let means = running.epoch.means
        let report = EpochReport(epoch: epoch, epochs: config.epochs, step: job.step, means: means, eval: eval,
                                 samplesPerSecond: rate, seconds: secs, skipped: running.epoch.skipped,
                                 line: job.epochLine(means: means, eval: eval))
        var decision = try callbacks.epochEnded?(report) ?? EpochDecision()
        // Rank 0's callbacks decide; every process must stop after the same epoch.
        if let p = parallel { decision.stop = try p.any(decision.stop) }
        let extras = decision.extraValues.prefix(extraPadding.count) + extraPadding.dropFirst(decision.extraValues.count)
        metrics?.add(kind: "epoch", epoch: epoch, step: job.step,
                     values: means + eval + [Double](repeating: .nan, count: job.evalColumns.count - eval.count)
                         + [rate, Date().timeIntervalSince(runStart), Double(running.epoch.skipped)] + extras)
        try metrics?.write()
        if epoch % config.sampleEvery == 0 || epoch == config.epochs || decision.stop {
            try callbacks.samplesDue?(report)
        }
        running.epoch.reset()
        running.epochSeconds = 0
        guard isWriter else { return decision.stop }
        let state = snapshot(epoch: epoch, dataRNG: dataRNG, batchInEpoch: 0)
        try directory.saveCheckpoint(job, state: state, config: config)
        directory.prune(keep: config.keepCheckpoints)
        return decision.stop
    }
}
