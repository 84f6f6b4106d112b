import FleetModel
import XCTest

/// What a config value may be: the validation table of the lab's
/// `{"interval": N, "metrics": [...]}`, with the exact messages operators see.
final class AgentConfigPatchTests: XCTestCase {
    func testConfigValidationTable() {
        let cases: [(String, String?)] = [
            (#"{"interval": 10, "metrics": ["cpu","memory"]}"#, nil),
            (#"{"interval": 1}"#, nil),
            (#"{"interval": 86400}"#, nil),
            (#"{"interval": 2.5}"#, nil),
            (#"{"metrics": ["disk", "net", "unknown-is-warned-not-rejected"]}"#, nil),
            (#"{"interval": 10, "extra": {"ignored": true}}"#, nil),
            (#"{}"#, nil),
            (#"{"interval": 0}"#, #""interval": expected a number of seconds from 1 to 86400, got 0"#),
            (#"{"interval": 86401}"#, #""interval": expected a number of seconds from 1 to 86400, got 86401"#),
            (#"{"interval": "10"}"#, #""interval": expected a number of seconds from 1 to 86400, got "10""#),
            (#"{"interval": true}"#, #""interval": expected a number of seconds from 1 to 86400, got true"#),
            (#"{"metrics": "cpu"}"#, #""metrics": expected a list of metric names like ["cpu", "memory"], got "cpu""#),
            (#"{"metrics": ["cpu", 1]}"#, #""metrics": expected a list of metric names like ["cpu", "memory"], got a list"#),
            (#"[10]"#, #"expected a JSON object like {"interval": 10, "metrics": ["cpu"]}, got "[10]""#),
            (#"{"interval": 10"#, #"not valid JSON ("{"interval": 10")"#),
        ]
        for (input, expected) in cases {
            do {
                _ = try AgentConfigPatch.parse(Array(input.utf8))
                XCTAssertNil(expected, "\(input) should be rejected")
            } catch {
                XCTAssertEqual("\(error)", expected, input)
            }
        }
    }
}
