import Foundation

/// eval.json as a table (`gen eval`'s output and report.html).
extension EvaluationReport {
    /// Rows of (metric, value) for the stdout table and report.html.
    public func rows() -> [(String, String)] {
        var r: [(String, String)] = [("source", source), ("model", model), ("samples", String(samples))]
        if let t = twoSample {
            r.append(("MMD² (Gaussian kernel) vs training data", String(format: "%.5f  (%d points each, σ %.4g)", t.mmd2, t.samples, t.bandwidth)))
            r.append(("MMD² floor: training half vs half", String(format: "%.5f", t.mmd2RealHalves)))
        } else {
            r.append(("classifier", "\(classifier) (test accuracy \(String(format: "%.2f", 100 * classifierTestAccuracy))%)"))
            r.append(("FID vs 10,000 test images" + (conditional == nil ? "" : " (all classes)"), String(format: "%.3f", fid)))
            r.append(("FID floor: 10,000 train vs test", String(format: "%.3f", fidTrainVsTest)))
        }
        if let c = coverage {
            r.append(("classes covered (>= 1%)", "\(c.classesCovered) of \(c.histogram.count)\(c.isModeCollapse ? "  (mode collapse)" : "")"))
            r.append(("class histogram 0-9", c.histogram.map(String.init).joined(separator: " ")))
            r.append(("KL(classes || uniform)", String(format: "%.4f nats", c.klFromUniform)))
        }
        if let c = conditional {
            r.append(("label accuracy (classifier = label)", String(format: "%.2f%%  (%d samples per class)", 100 * c.labelAccuracy, c.samplesPerClass)))
            r.append(("label accuracy per class", c.perClassAccuracy.map { String(format: "%.1f", 100 * $0) }.joined(separator: " ")))
            r.append(("per-class FID vs that class's test images", c.perClassFID.map { String(format: "%.1f", $0) }.joined(separator: " ")))
        }
        for w in iwae {
            r.append(("IWAE k=\(w.k), \(w.images) test images",
                      String(format: "-log p(x\(conditional == nil ? "" : " | y")) <= %.2f ± %.2f nats  (-ELBO %.2f)", w.negativeBound, w.standardError, w.negativeELBO)))
        }
        if let m = memorisation {
            r.append(("NN distance sample->train", String(format: "p1 %.3f  p50 %.3f  mean %.3f", m.samplePercentiles["1"] ?? .nan, m.samplePercentiles["50"] ?? .nan, m.sampleMean)))
            r.append(("NN distance test->train", String(format: "p1 %.3f  p50 %.3f  mean %.3f", m.testPercentiles["1"] ?? .nan, m.testPercentiles["50"] ?? .nan, m.testMean)))
            r.append(("samples closer than test p1", String(format: "%.2f%% (test: 1%% by definition)", 100 * m.fractionBelowTestP1)))
        }
        r.append(("time", String(format: "%.0f s", seconds)))
        return r
    }

    /// A plain-text table: the `rows()`, names padded to one width.
    public func table() -> String {
        let rs = rows()
        let w = rs.map { $0.0.count }.max() ?? 0
        return rs.map { $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
