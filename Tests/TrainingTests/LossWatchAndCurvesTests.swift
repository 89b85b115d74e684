@testable import Training
import XCTest

/// The divergence detector on hand-made running sums, and metrics.csv curves from a
/// hand-written file.
final class LossWatchAndCurvesTests: XCTestCase {
    /// Running sums after each of `values` (one metric, one batch per step, one epoch).
    func reports(_ values: [Double]) -> [StepReport] {
        var sums = MetricSums(columns: 1)
        return values.enumerated().map { i, v in
            sums.sums[0] += v
            sums.counts[0] += 1
            return StepReport(epoch: 1, epochs: 1, batch: i + 1, batches: values.count, step: i + 1,
                              samplesPerSecond: 1, columns: ["d_loss"], sums: sums)
        }
    }

    /// First value 2; step 3's own value is 3000 = 1500x, over 1000 x 2; step 4's is larger
    /// still but the watch has already spoken.
    func testReportsTheFirstDivergenceOnce() {
        var watch = LossWatch()
        let seen = reports([2, 1500, 3000, 1e9]).map { watch.check($0) }
        XCTAssertEqual(seen, [nil, nil, LossWatch.Divergence(metric: "d_loss", value: 3000, step: 3, first: 2), nil])
        XCTAssertTrue(watch.warned)
    }

    /// Values near zero: the bound is 1000 x max(|first|, 1) = 1000, so 999 passes.
    func testSmallFirstValuesUseOneAsTheScale() {
        var watch = LossWatch()
        XCTAssertEqual(reports([0.001, 999, -999]).compactMap { watch.check($0) }, [])
    }

    func testCurvesGroupFiniteValuesByKind() {
        let csv = "kind,epoch,step,d_loss,fid\nstep,1,100,0.5,\nstep,1,200,0.25,\nepoch,1,234,0.4,30.5\nstep,2,300,nan,\n"
        let curves = MetricsLog.curves(csv: csv)
        XCTAssertEqual(curves.map(\.column), ["epoch", "d_loss", "fid"])
        let loss = curves[1].series
        XCTAssertEqual(loss["step"]?.map(\.0), [100, 200])
        XCTAssertEqual(loss["step"]?.map(\.1), [0.5, 0.25])
        XCTAssertEqual(loss["epoch"]?.map(\.1), [0.4])
        XCTAssertEqual(curves[2].series["epoch"]?.map(\.1), [30.5])
        XCTAssertNil(curves[2].series["step"])
        XCTAssertTrue(MetricsLog.curves(csv: "a,b\n1,2\n").isEmpty)
    }
}

/// The report's charts and headline from metrics.csv: a test_ twin on its column's chart,
/// bookkeeping columns left out, the last epoch's values with readable numbers.
final class MetricsChartsTests: XCTestCase {
    let csv = """
    kind,epoch,step,neg_elbo,kl,test_neg_elbo,samples_per_sec,elapsed_s,skipped
    step,1,100,150,10,,12000,1.5,0
    epoch,1,200,140,11,130,12500,3,0
    step,2,300,120,12,,13000,4.5,0
    epoch,2,400,110,12.5,105.25,12931.4,6,0

    """

    func testTestColumnsShareTheirChartAndBookkeepingIsHidden() {
        let charts = MetricsLog.charts(csv: csv)
        XCTAssertEqual(charts.map(\.column), ["neg_elbo", "kl"], "throughput and bookkeeping are not charted")
        let elbo = charts[0].series
        XCTAssertEqual(elbo.map(\.label), ["train (steps)", "train (epoch)", "test (epoch)"])
        XCTAssertEqual(elbo[2].points.map(\.1), [130, 105.25])
        XCTAssertEqual(charts[1].series.map(\.label), ["per step window", "epoch"])
    }

    func testHeadlineIsTheLastEpoch() {
        let rows = Dictionary(uniqueKeysWithValues: MetricsLog.headline(csv: csv).map { ($0.0, $0.1) })
        XCTAssertEqual(rows["epochs trained"], "2")
        XCTAssertEqual(rows["training time"], "6 s")
        XCTAssertEqual(rows["neg_elbo"], "110.00  (test 105.25)")
        XCTAssertEqual(rows["samples/s (last epoch)"], "12,931")
        XCTAssertNil(rows["skipped"])
        XCTAssertEqual(MetricsLog.duration(3725), "1 h 2 min")
    }
}
