import FleetModel
import Foundation
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

    /// Bounded work whatever the value: a size limit before any parsing, duplicate
    /// names folded, at most 64 distinct names; checking 100,000 names is linear.
    func testHostileValuesAreRefusedCheaply() throws {
        let names = (0..<100_000).map { "\"m\($0)\"" }.joined(separator: ",")
        let huge = Array("{\"metrics\": [\(names)]}".utf8)
        let start = Date()
        XCTAssertThrowsError(try AgentConfigPatch.parse(huge)) {
            XCTAssertEqual("\($0)", "value of \(huge.count) bytes exceeds 64 KiB (a config is a few dozen bytes, like {\"interval\": 10, \"metrics\": [\"cpu\"]})")
        }
        let many = Array(("{\"metrics\": [" + (0..<65).map { "\"m\($0)\"" }.joined(separator: ",") + "]}").utf8)
        XCTAssertThrowsError(try AgentConfigPatch.parse(many)) {
            XCTAssertTrue("\($0)".hasPrefix("\"metrics\": 65 distinct names, at most 64 (known: cpu, memory,"), "\($0)")
        }
        let repeated = Array(("{\"metrics\": [" + Array(repeating: "\"cpu\", \"memory\"", count: 2000).joined(separator: ",") + "]}").utf8)
        XCTAssertEqual(try AgentConfigPatch.parse(repeated).metrics, ["cpu", "memory"], "duplicates folded")
        let selection = MetricSelection(names: (0..<100_000).map { "m\($0 % 50_000)" })
        XCTAssertEqual(selection.unknown.count, 50_000)
        XCTAssertEqual(selection.unknownList(), #""m0", "m1", "m2", "m3", "m4" and 49995 more"#)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "linear: well under a second in practice")
    }
}
