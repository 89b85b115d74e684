import Datasets
import FileIO
import Foundation
import Generative
import Linalg
import Training

extension Eval {
    /// `gen eval` of a model of non-image data (a 2-D ring, tabular rows): its samples against
    /// its own training data (the run's config.json names it) by the MMD two-sample score, with
    /// the training data's half-vs-half score as the floor, and a scatter plot of 1,000 samples
    /// over the data for 2-D data (eval/scatter.png), else a histogram per dimension
    /// (eval/histograms.png); eval.json and the table as for images,
    /// without the classifier's rows.
    func evaluateVectors(_ model: LoadedModel, checkpoint dir: URL, started: Date) throws {
        if data != nil || classifier != nil {
            throw CLIError(ExitStatus.usage, "\(dir.path): a model of \(model.dataDim)-value samples is scored against its own training data (MMD); --data and --classifier apply to 28x28 image models")
        }
        let config = try RunConfig.read(checkpoint: dir)
        let train = try config.loadData()
        var real = Matrix.empty
        train.train.gather(ArraySlice(0..<min(train.count, 2 * 1000)), scaling: .unit, into: &real)
        guard real.rows >= 4 && real.cols == model.dataDim else {
            throw RunError("\(train.source): \(real.rows) samples of \(real.cols) values; the MMD needs at least 4 of the model's \(model.dataDim)")
        }
        var rng = Xoshiro256(seed: seed)
        let x = model.unitSamples(count: min(count, 1000), rng: &rng)
        if let file = saveSamples {
            var values = x
            if let s = config.dataScaling, s.low.count == values.cols { s.invert(&values) }
            try NPY.write(values, to: URL(fileURLWithPath: file))
            print("saved \(x.rows) samples to \(file) (in the data's units)")
        }
        var report = EvaluationReport(source: dir.path, model: model.kind, samples: x.rows, classifier: "",
                                      classifierTestAccuracy: .nan)
        report.twoSample = TwoSampleScore.measure(samples: x, real: real)
        let outDir = URL(fileURLWithPath: out ?? URL(fileURLWithPath: path!).path)
        let evalDir = outDir.appendingPathComponent("eval")
        do {
            try FileManager.default.createDirectory(at: evalDir, withIntermediateDirectories: true)
        } catch { throw CLIError.cannotWrite(evalDir.path, error) }
        if x.cols == 2 {
            try PNGImage.writeGray(ScatterPlot.pixels(samples: x, data: real), width: 320, height: 320,
                                   to: evalDir.appendingPathComponent("scatter.png"))
            report.pictures = ["eval/scatter.png"]
        } else {
            let size = HistogramPlot.size(dimensions: x.cols)
            try PNGImage.writeGray(HistogramPlot.pixels(samples: x, data: real), width: size.width, height: size.height,
                                   to: evalDir.appendingPathComponent("histograms.png"))
            report.pictures = ["eval/histograms.png"]
        }
        report.seconds = Date().timeIntervalSince(started)
        try publish(report, in: outDir, pictures: evalDir)
    }
}
