@testable import ProcFS
import ProcFSTestKit
import XCTest

/// Asserts that `parse` rejects a malformed fixture with a `ProcParseError` naming
/// the fixture, the expected line and a message containing `message`.
func assertParseError<T>(
    _ fixture: String, line: Int?, contains message: String,
    parse: (String, String) throws -> T,
    file: StaticString = #filePath, testLine: UInt = #line
) {
    do {
        let parsed = try parse(Fixtures.text(fixture), fixture)
        XCTFail("\(fixture): parsed \(parsed)", file: file, line: testLine)
    } catch let error as ProcParseError {
        XCTAssertEqual(error.file, fixture, file: file, line: testLine)
        XCTAssertEqual(error.line, line, "\(error)", file: file, line: testLine)
        XCTAssertTrue(error.message.contains(message), "\(error)", file: file, line: testLine)
        if line != nil {
            XCTAssertFalse(error.text.isEmpty, "\(error)", file: file, line: testLine)
        }
    } catch {
        XCTFail("\(fixture): unexpected \(error)", file: file, line: testLine)
    }
}
