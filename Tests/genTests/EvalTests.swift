import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// End-to-end tests of `gen eval`, `gen report` and `gen train --eval-every/--target-fid`
/// (the committed reference classifier and the repository's MNIST copy).
final class EvalTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("gen-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    typealias Result = GenResult

    func gen(_ args: [String]) throws -> Result { try GenRunner.run(args, cwd: EvalTests.root) }

    /// A float32 .npy of shape (rows, cols) (NEP 1, version 1.0), written by hand.
    func writeNPY(_ values: [Float], rows: Int, cols: Int, to url: URL) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 255), UInt8(header.count >> 8)])
        data.append(header.data(using: .ascii)!)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: url)
    }

    /// Element names and attributes of an XML document; fails the test when it does not parse.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append((name, attributes))
        }
    }

    func parseXML(_ url: URL) throws -> Collector {
        let parser = XMLParser(data: try Data(contentsOf: url))
        let c = Collector()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "report.html is not well-formed XML: \(String(describing: parser.parserError))")
        return c
    }

    func testEvalSamplesThenReportIsWellFormedWithEveryCurve() throws {
        // A hand-made run directory: config, metrics (one column only on epoch rows), one grid.
        let run = tmp.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run.appendingPathComponent("samples"), withIntermediateDirectories: true)
        try "{\"model\" : \"gan\", \"note\" : \"<&>\"}".write(to: run.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try """
        kind,epoch,step,d_loss,g_loss,fid
        step,1,100,1.2,0.7,
        epoch,1,200,1.1,0.8,80.5
        step,2,300,1.0,0.9,
        epoch,2,400,0.9,1.0,60.25

        """.write(to: run.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        let png = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAAAAABX3VL4AAAADElEQVR4nGNg+A+EAAYAAf+T0eSJAAAAAElFTkSuQmCC")!
        try png.write(to: run.appendingPathComponent("samples/epoch-0001.png"))

        // 64 noise "samples" in [-1, 1]: far from MNIST, so FID is well above the train-test floor.
        var rng = SystemRandomNumberGenerator()
        let values = (0..<(64 * 784)).map { _ in Float.random(in: -1...1, using: &rng) }
        let npy = tmp.appendingPathComponent("noise.npy")
        try writeNPY(values, rows: 64, cols: 784, to: npy)
        var r = try gen(["eval", "--samples", npy.path, "--range", "symmetric", "--no-memorisation",
                         "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("FID vs 10,000 test images"), r.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("eval.json"))) as! [String: Any]
        let fid = json["fid"] as! Double, floor = json["fidTrainVsTest"] as! Double
        XCTAssertGreaterThan(floor, 0)
        XCTAssertGreaterThan(fid, 10 * floor, "noise FID \(fid) vs floor \(floor)")
        XCTAssertEqual(json["samples"] as? Int, 64)
        let coverage = json["coverage"] as! [String: Any]
        XCTAssertEqual((coverage["histogram"] as! [Int]).reduce(0, +), 64)
        XCTAssertGreaterThan(json["classifierTestAccuracy"] as! Double, 0.98)

        r = try gen(["report", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try parseXML(run.appendingPathComponent("report.html"))
        let curves = Set(doc.elements.filter { $0.name == "svg" }.compactMap { $0.attributes["data-column"] })
        XCTAssertEqual(curves, ["d_loss", "g_loss", "fid"], "bookkeeping columns (epoch) are not charted")
        // Per-chart polylines: fid has only epoch points, the losses both kinds.
        XCTAssertEqual(doc.elements.filter { $0.name == "polyline" }.count, 2 * 2 + 1)
        let images = doc.elements.filter { $0.name == "img" }.compactMap { $0.attributes["src"] }
        XCTAssertTrue(images.contains("data:image/png;base64," + png.base64EncodedString()))
        XCTAssertTrue(images.count >= 2, "sample grid and eval pictures: \(images.count)")
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("&lt;&amp;&gt;"), "config text is escaped")
        XCTAssertTrue(html.contains("FID floor"))
    }

    func testEvalRejectsSamplesOutsideTheirRange() throws {
        let npy = tmp.appendingPathComponent("bad.npy")
        try writeNPY([Float](repeating: 2, count: 2 * 784), rows: 2, cols: 784, to: npy)
        var r = try gen(["eval", "--samples", npy.path, "--range", "unit", "--no-memorisation"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("bad.npy") && r.stderr.contains("outside"), r.stderr)
        try writeNPY([Float](repeating: 0, count: 2 * 10), rows: 2, cols: 10, to: npy)
        r = try gen(["eval", "--samples", npy.path, "--range", "unit"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("784"), r.stderr)
        r = try gen(["eval", "--samples", npy.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--range"), r.stderr)
    }

    func testTrainEvalEveryAddsColumnsAndTargetFIDStops() throws {
        let run = tmp.appendingPathComponent("gan")
        let r = try gen(["train", "gan", "--epochs", "3", "--limit", "256", "--batch-size", "128", "--hidden", "16",
                         "--threads", "1", "--eval-every", "1", "--target-fid", "1e9", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("quality: FID"), r.stdout)
        XCTAssertTrue(r.stdout.contains("target FID") && r.stdout.contains("after epoch 1"), r.stdout)
        XCTAssertFalse(r.stdout.contains("epoch 2/3"), r.stdout)
        let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertTrue(lines[0].hasSuffix(",fid,classes_covered"), String(lines[0]))
        let epochRow = lines.first { $0.hasPrefix("epoch,1,") }!.split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(epochRow.count, lines[0].split(separator: ",").count)
        XCTAssertGreaterThan(Double(epochRow[epochRow.count - 2]) ?? -1, 0)
        _ = try parseXML(run.appendingPathComponent("report.html"))
    }
}
