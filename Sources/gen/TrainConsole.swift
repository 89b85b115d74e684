import Datasets
import Foundation
import Linalg
import Generative
import Training

/// What `gen train` plugs into the library loop: the progress line, the epoch lines, skipped
/// batch warnings, `--eval-every` (QualityHook), the sample grids and the stop flag set by
/// SIGINT/SIGTERM (`installStopHandlers`).
final class TrainConsole {
    let loop: TrainingLoop
    let quality: QualityHook
    var progress: Progress
    /// The one-time divergence warning (`LossWatch`).
    var lossWatch = LossWatch()
    /// The one-time note that mpirun's interrupt deadline is shorter than a step.
    var deadlineWatch = MPIDeadlineWatch(isMPI: Launch.isMPI)

    init(loop: TrainingLoop, quality: QualityHook) {
        self.loop = loop
        self.quality = quality
        progress = Progress(plainEvery: loop.config.logEvery)
    }

    func callbacks() -> TrainingCallbacks {
        var cb = TrainingCallbacks()
        cb.extraColumns = quality.columns
        cb.step = { [unowned self] r in step(r) }
        cb.batchSkipped = { [unowned self] e in
            progress.clear()
            printWarning("\(e); batch skipped")
        }
        cb.epochEnded = { [unowned self] r in try epochEnded(r) }
        cb.samplesDue = { [unowned self] r in try writeSamples(epoch: r.epoch) }
        cb.stopRequested = { stopSignal.load(ordering: .relaxed) != 0 }
        return cb
    }

    /// A data-parallel run's ranks other than 0: no display, only the stop flag, and for a
    /// rank that is its own process the test signal hook (threads of one process share rank
    /// 0's: the signal goes to the whole process once).
    static func secondaryCallbacks(ownProcess: Bool = true) -> TrainingCallbacks {
        var cb = TrainingCallbacks()
        if ownProcess { cb.step = { r in raiseTestSignalIfDue(step: r.step) } }
        cb.stopRequested = { stopSignal.load(ordering: .relaxed) != 0 }
        return cb
    }

    private func step(_ r: StepReport) {
        progress.update(epoch: r.epoch, epochs: r.epochs, done: r.batch, total: r.batches, step: r.step,
                        samplesPerSec: r.samplesPerSecond,
                        text: r.columns.indices.map {
                            "\(r.columns[$0]) \(fmt(r.sums.sums[$0] / Double(max(r.sums.counts[$0], 1)), 3))"
                        }.joined(separator: " "))
        if let d = lossWatch.check(r) {
            progress.clear()
            printWarning("\(d.metric) is \(sci(d.value)) at step \(d.step), over \(Int(LossWatch.factor)) times its first value \(sci(d.first)): training is probably diverging (try a smaller --lr, or --clip-norm)")
        }
        if let note = deadlineWatch.check(secondsPerStep: Double(loop.config.batchSize) / r.samplesPerSecond) {
            progress.clear()
            print(note)
        }
        raiseTestSignalIfDue(step: r.step)
    }

    private func epochEnded(_ r: EpochReport) throws -> EpochDecision {
        progress.clear()
        print("epoch \(r.epoch)/\(r.epochs)  \(r.line)  \(Int(r.samplesPerSecond)) samples/s  \(fmt(r.seconds, 1)) s")
        fflush(nil)
        let (values, measured) = try quality.afterEpoch(r.epoch, last: r.epoch == r.epochs)
        if let (m, seconds) = measured { printQuality(m, seconds: seconds) }
        return EpochDecision(extraValues: values, stop: quality.reachedTarget)
    }

    private func printQuality(_ m: QualityMeasurement, seconds: Double) {
        let c = m.coverage
        var line = "  quality: FID \(fmt(m.fid, 3))  classes covered \(c.classesCovered)/\(c.histogram.count)\(c.isModeCollapse ? " (mode collapse)" : "")"
        if m.iwae.count == 2 {
            line += "  IWAE -log p(x) <= \(fmt(m.iwae[0].negativeBound, 2)) (k=1), \(fmt(m.iwae[1].negativeBound, 2)) (k=64) on \(m.iwae[0].images) test images"
        }
        print(line + "  \(fmt(seconds, 1)) s")
    }

    /// samples/epoch-NNNN.png (and the job's other sheets, e.g. recon-epoch-NNNN.png): 8 images
    /// per row (a conditional model's class grid: one row per class), a scatter plot over the
    /// data for 2-D samples, or a histogram per dimension for other non-image vectors.
    private func writeSamples(epoch: Int) throws {
        let tag = String(format: "epoch-%04d", epoch)
        let shape = loop.data.imageShape
        for sheet in loop.job.samples(loop.data) {
            let url = loop.directory.samples.appendingPathComponent("\(sheet.prefix)\(tag).png")
            if shape == nil && sheet.images.cols == 2 {
                // 2-D data: the samples over the data (reconstruction pairs
                // would be indistinguishable dots: left out).
                guard sheet.prefix.isEmpty else { continue }
                try PNGImage.writeGray(ScatterPlot.pixels(samples: sheet.images.mappingRange(from: sheet.range, to: 0...1),
                                                          data: dataPoints()), width: 320, height: 320, to: url)
                continue
            }
            if shape == nil {
                // Other non-image vectors: a histogram per dimension, samples over the data.
                guard sheet.prefix.isEmpty else { continue }
                let size = HistogramPlot.size(dimensions: sheet.images.cols)
                try PNGImage.writeGray(HistogramPlot.pixels(samples: sheet.images.mappingRange(from: sheet.range, to: 0...1),
                                                            data: dataPoints()), width: size.width, height: size.height, to: url)
                continue
            }
            try PNGImage.writeGrid(sheet.images, height: shape?.height ?? 1, width: shape?.width ?? sheet.images.cols,
                                   columns: shape == nil ? 1 : sheet.columns, range: sheet.range,
                                   to: url)
        }
    }

    /// Up to 2,000 training points in [0, 1] (the scatter plot's background).
    private func dataPoints() -> Matrix {
        var m = Matrix.empty
        loop.data.train.gather(ArraySlice(0..<min(loop.data.count, 2000)), scaling: .unit, into: &m)
        return m
    }
}
