import XCTest
final class PlaceholderDatasetsTests: XCTestCase { func testNothing() {} }
