import Linalg
import XCTest

final class CoreRoundTripTests: XCTestCase {
    /// A handoff is at least two memory operations and cannot take a second per trip; the value
    /// itself depends on the machine (and is a benchmark's figure, not asserted).
    func testRoundTripIsAPositiveFiniteTime() throws {
        for trips in [1, 300] {
            guard let ns = measureCoreRoundTrip(trips: trips, repetitions: 1) else {
                throw XCTSkip("this process may run on one CPU only: no round trip to measure")
            }
            XCTAssertTrue(ns.isFinite && ns > 0, "\(trips) trips: \(ns) ns")
            XCTAssertLessThan(ns, 1e9, "\(trips) trips")
        }
    }
}
