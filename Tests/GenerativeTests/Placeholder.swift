import XCTest
final class PlaceholderGenerativeTests: XCTestCase { func testNothing() {} }
