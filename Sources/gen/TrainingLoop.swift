import ArgumentParser
import Datasets
import FileIO
import Foundation
import Generative
import Linalg

extension GANLoss: ExpressibleByArgument {}

/// The epoch loop of `gen train`: data order, steps, progress, metrics.csv, sample grids,
/// checkpoints, interruption and resume.
struct TrainingLoop {
    let command: Train

    func run() throws {
        // --- Configuration: new run or resumed one ---
        let runDir: URL
        var config: RunConfig
        var resumeFrom: (dir: URL, state: TrainingState)?
        if let resume = command.resume {
            runDir = URL(fileURLWithPath: resume)
            config = try RunConfig.read(runDirectory: runDir)
            if let m = command.model, m.rawValue != config.model {
                throw ValidationError("--resume \(resume) is a \(config.model) run, not \(m.rawValue)")
            }
            if let e = command.epochs { config.epochs = e }
            if let t = command.threads { config.threads = t }
            if let s = command.sampleEvery { config.sampleEvery = s }
            if let s = command.logEvery { config.logEvery = s }
            if let k = command.keepCheckpoints { config.keepCheckpoints = k }
            Checkpoint.recover(in: runDir.appendingPathComponent("checkpoints"))
            guard let latest = Checkpoint.list(in: runDir.appendingPathComponent("checkpoints")).last else {
                throw RunError("\(runDir.path)/checkpoints: no checkpoint to resume from")
            }
            resumeFrom = (latest, try Checkpoint.readState(in: latest))
        } else {
            config = try command.makeConfig()
            runDir = URL(fileURLWithPath: command.out ?? TrainingLoop.defaultRunDirectory(config.model))
        }
        try config.gan?.validate()
        try config.vae?.validate()
        // Row-split threading: our own gemm and Adam threads, no allocation per step (gen bench).
        BLASThreads.set(.rowSplit(threads: config.threads))

        // --- Data ---
        let data = try TrainingData.load(path: config.data, limit: config.limit)
        guard data.count >= 1 else { throw RunError("\(data.source): no training samples") }
        if let dim = config.gan?.dataDim ?? config.vae?.dataDim, resumeFrom != nil, dim != data.sampleSize {
            throw RunError("\(data.source): samples have \(data.sampleSize) values but the run was trained on \(dim)")
        }
        config.gan?.dataDim = data.sampleSize
        config.vae?.dataDim = data.sampleSize
        // The data fixes the input width: check the size limits again with it (a 1e6-column
        // .npy would otherwise train and then be refused by --resume).
        if let problem = config.problem { throw RunError("\(data.source): \(problem)") }

        // --- Run directory (fails early and clearly when --out is not writable) ---
        try prepareRunDirectory(runDir, config: config, resuming: resumeFrom != nil)

        // --- Model and trainer from the seed ---
        var initRNG = Xoshiro256(seed: config.seed)
        var fixedRNG = Xoshiro256(seed: config.seed &+ 3)
        let job: any TrainingJob
        if let gc = config.gan {
            let model = try GAN(config: gc, rng: &initRNG)
            job = GANJob(trainer: try GANTrainer(model: model, config: gc, rng: Xoshiro256(seed: config.seed &+ 1)),
                         fixedNoise: Matrix.normal(rows: 64, cols: gc.latentDim, using: &fixedRNG),
                         imageShape: data.imageShape)
        } else {
            let vc = config.vae!
            let model = try VAE(config: vc, rng: &initRNG)
            job = VAEJob(trainer: VAETrainer(model: model, config: vc, rng: Xoshiro256(seed: config.seed &+ 1)),
                         fixedNoise: Matrix.normal(rows: 64, cols: vc.latentDim, using: &fixedRNG),
                         imageShape: data.imageShape, seed: config.seed, batchSize: config.batchSize)
        }
        let quality = try QualityHook(command: command, data: data, job: job, seed: config.seed)
        var dataRNG = Xoshiro256(seed: config.seed &+ 2)
        var startEpoch = 1, skipBatches = 0
        var metrics = try MetricsLog(url: runDir.appendingPathComponent("metrics.csv"),
                                     columns: ["kind", "epoch", "step"] + job.stepColumns + job.evalColumns
                                         + ["samples_per_sec", "elapsed_s", "skipped"] + quality.columns,
                                     keepUpToStep: resumeFrom?.state.step)
        if let (dir, state) = resumeFrom {
            guard state.model == config.model else {
                throw RunError("\(dir.path)/state.json: a \(state.model) checkpoint in a \(config.model) run")
            }
            try job.restore(from: dir, state: state)
            dataRNG = try generator(state.dataRNG, in: dir)
            startEpoch = state.epoch + 1
            skipBatches = state.batchInEpoch
            print("resuming \(runDir.path) from \(dir.lastPathComponent): epoch \(startEpoch), batch \(skipBatches), step \(state.step)")
        } else {
            print("run directory: \(runDir.path)")
        }
        print("\(config.model): \(describe(config)); \(data.count) training samples from \(data.source); batch \(config.batchSize); seed \(config.seed); \(config.threads) threads")
        if startEpoch > config.epochs {
            print("nothing to do: \(startEpoch - 1) epochs already trained (--epochs \(config.epochs))")
            return
        }

        installStopHandlers()
        var sampler = BatchSampler(count: data.count, batchSize: config.batchSize)
        var batch = Matrix.empty
        var progress = Progress(plainEvery: config.logEvery)
        let cols = job.stepColumns.count
        var windowSums = [Double](repeating: 0, count: cols), windowCounts = [Int](repeating: 0, count: cols)
        var values = [Double](repeating: .nan, count: cols)
        var windowSamples = 0
        var skippedInWindow = 0   // batches skipped by --on-nonfinite skip (metrics.csv `skipped`)
        var windowStart = Date()
        let runStart = Date()
        let checkpoints = runDir.appendingPathComponent("checkpoints")

        for epoch in startEpoch...config.epochs {
            let epochStartRNG = dataRNG
            sampler.startEpoch(rng: &dataRNG)
            var sums = [Double](repeating: 0, count: cols), counts = [Int](repeating: 0, count: cols)
            let epochStart = Date()
            var epochSamples = 0
            var skippedInEpoch = 0
            let total = sampler.batchesPerEpoch
            guard skipBatches <= total else {
                throw RunError("\(resumeFrom?.dir.path ?? runDir.path)/state.json: batch \(skipBatches) is past the \(total) batches of an epoch")
            }
            for b in skipBatches..<total {
                TrainingData.gather(data.train, indices: sampler.batchIndices(b), scaling: job.scaling, into: &batch)
                do {
                    let weight = try job.trainStep(batch, values: &values)
                    for i in 0..<cols where !values[i].isNaN {
                        sums[i] += values[i] * Double(weight); counts[i] += weight
                        windowSums[i] += values[i] * Double(weight); windowCounts[i] += weight
                    }
                } catch let e as NonFiniteError {
                    // The trainer applied no update from the bad loss/gradient (see its docs).
                    progress.clear()
                    guard command.onNonfinite == .skip else {
                        let last = Checkpoint.list(in: checkpoints).last
                        throw RunError("\(e); stopped. Last good checkpoint: \(last?.path ?? "none (no epoch finished)")"
                            + " (resume with --resume \(runDir.path); --on-nonfinite skip skips such batches)")
                    }
                    skippedInEpoch += 1
                    skippedInWindow += 1
                    printError("warning: \(e); batch skipped")
                }
                epochSamples += batch.rows
                windowSamples += batch.rows
                let rate = Double(epochSamples) / max(Date().timeIntervalSince(epochStart), 1e-9)
                progress.update(epoch: epoch, epochs: config.epochs, done: b + 1, total: total,
                                step: job.step, samplesPerSec: rate,
                                text: job.stepColumns.indices.map { "\(job.stepColumns[$0]) \(fmt(sums[$0] / Double(max(counts[$0], 1)), 3))" }.joined(separator: " "))
                if job.step % config.logEvery == 0 {
                    let secs = Date().timeIntervalSince(windowStart)
                    metrics.add(kind: "step", epoch: epoch, step: job.step,
                                values: means(windowSums, windowCounts) + Array(repeating: Double.nan, count: job.evalColumns.count)
                                    + [Double(windowSamples) / max(secs, 1e-9), Date().timeIntervalSince(runStart),
                                       Double(skippedInWindow)] + quality.padding)
                    skippedInWindow = 0
                    windowSums = [Double](repeating: 0, count: cols)
                    windowCounts = [Int](repeating: 0, count: cols)
                    windowSamples = 0
                    windowStart = Date()
                }
                raiseTestSignalIfDue(step: job.step)
                if let sig = Optional(stopSignal.load(ordering: .relaxed)), sig != 0 {
                    progress.clear()
                    let state = job.trainingState(epoch: epoch - 1, dataRNG: epochStartRNG, batchInEpoch: b + 1)
                    let dir = try saveCheckpoint(job, state: state, config: config, in: checkpoints)
                    try metrics.write()
                    print("interrupted by \(sig == SIGINT ? "SIGINT" : "SIGTERM") at epoch \(epoch), batch \(b + 1)/\(total), step \(job.step); checkpoint \(dir.path)")
                    print("resume with: gen train --resume \(runDir.path)")
                    throw ExitCode(128 + sig)
                }
            }
            skipBatches = 0
            let secs = Date().timeIntervalSince(epochStart)
            let rate = Double(epochSamples) / max(secs, 1e-9)
            let eval = job.evaluate(data)
            let epochMeans = means(sums, counts)
            progress.clear()
            print("epoch \(epoch)/\(config.epochs)  \(job.epochLine(means: epochMeans, eval: eval))  \(Int(rate)) samples/s  \(fmt(secs, 1)) s")
            fflush(nil)
            let qualityValues = try quality.afterEpoch(epoch, last: epoch == config.epochs)
            metrics.add(kind: "epoch", epoch: epoch, step: job.step,
                        values: epochMeans + eval + Array(repeating: Double.nan, count: job.evalColumns.count - eval.count)
                            + [rate, Date().timeIntervalSince(runStart), Double(skippedInEpoch)] + qualityValues)
            try metrics.write()
            if epoch % config.sampleEvery == 0 || epoch == config.epochs || quality.reachedTarget {
                try job.writeSamples(to: runDir.appendingPathComponent("samples"),
                                     tag: String(format: "epoch-%04d", epoch), data: data)
            }
            let state = job.trainingState(epoch: epoch, dataRNG: dataRNG, batchInEpoch: 0)
            _ = try saveCheckpoint(job, state: state, config: config, in: checkpoints)
            Checkpoint.prune(in: checkpoints, keep: config.keepCheckpoints)
            if quality.reachedTarget {
                print("target FID \(fmt(quality.targetFID ?? 0, 3)) reached after epoch \(epoch): stopping early")
                break
            }
        }
        do { try RunReport.write(runDirectory: runDir) } catch { printError("warning: report.html not written: \(error)") }
        print("done: \(runDir.path) (samples/, metrics.csv, checkpoints/, report.html)")
    }

    private func means(_ sums: [Double], _ counts: [Int]) -> [Double] {
        zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
    }

    private func describe(_ c: RunConfig) -> String {
        if let g = c.gan {
            return "G \(([g.latentDim] + g.generatorHidden + [g.dataDim]).map(String.init).joined(separator: "-")), D \(([g.dataDim] + g.discriminatorHidden + [1]).map(String.init).joined(separator: "-")), loss \(g.loss.rawValue), \(g.optimizer.rawValue) lr \(g.learningRate)"
        }
        let v = c.vae!
        return "VAE \(([v.dataDim] + v.hidden + [v.latentDim]).map(String.init).joined(separator: "-")), Adam lr \(v.learningRate)"
    }

    private func saveCheckpoint(_ job: any TrainingJob, state: TrainingState, config: RunConfig,
                                in dir: URL) throws -> URL {
        let target = dir.appendingPathComponent(String(format: "step-%08d", state.step))
        do {
            try Checkpoint.write(files: job.checkpointFiles(), config: config.encoded(), state: state, to: target)
        } catch {
            throw RunError("\(target.path): cannot write checkpoint: \(error)")
        }
        return target
    }

    private func prepareRunDirectory(_ dir: URL, config: RunConfig, resuming: Bool) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            throw RunError("--out \(dir.path): exists and is not a directory")
        }
        do {
            try fm.createDirectory(at: dir.appendingPathComponent("samples"), withIntermediateDirectories: true)
            try fm.createDirectory(at: dir.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        } catch {
            throw RunError("--out \(dir.path): cannot create the run directory: \(error.localizedDescription)")
        }
        if !resuming {
            // A run that stopped before its first checkpoint (NaN at step 1, killed) has nothing
            // to resume: starting afresh in its directory is allowed, a run with checkpoints is kept.
            if fm.fileExists(atPath: dir.appendingPathComponent("config.json").path),
               !Checkpoint.list(in: dir.appendingPathComponent("checkpoints")).isEmpty {
                throw RunError("--out \(dir.path): already holds a run (use --resume \(dir.path), or another --out)")
            }
            do {
                try AtomicFile.write(config.encoded(), to: dir.appendingPathComponent("config.json"))
            } catch {
                throw RunError("--out \(dir.path): \(error)")
            }
        }
    }

    static func defaultRunDirectory(_ model: String) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "runs/\(model)-\(f.string(from: Date()))"
    }
}
