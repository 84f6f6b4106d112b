import FleetModel
import MonitorSettings
@testable import MonitorAgent
import XCTest

/// Config semantics for fleets: default key, node override field by field, last
/// good value kept on rejection.
final class ConfigStoreTests: XCTestCase {
    func testNodeKeyOverridesTheDefaultFieldByFieldAndDeletionFallsBack() throws {
        let store = ConfigStore()
        XCTAssertEqual(store.config, .default)
        let c1 = store.set(.fleetDefault, try AgentConfigPatch.parse(Array(#"{"interval": 30, "metrics": ["cpu"]}"#.utf8)))
        XCTAssertEqual(c1?.new, AgentConfig(interval: 30, metrics: ["cpu"]))
        store.set(.node, try AgentConfigPatch.parse(Array(#"{"interval": 2}"#.utf8)))
        XCTAssertEqual(store.config, AgentConfig(interval: 2, metrics: ["cpu"]))
        let back = store.set(.node, nil)
        XCTAssertEqual(back?.old.interval, 2)
        XCTAssertEqual(store.config, AgentConfig(interval: 30, metrics: ["cpu"]))
        XCTAssertNil(store.set(.node, nil), "no change, no change record")
    }

    func testARejectionKeepsTheLastGoodConfigAndIsClearedByTheNextGoodValue() throws {
        let store = ConfigStore()
        store.set(.node, AgentConfigPatch(interval: 5))
        store.reject(.node, reason: "/m/config/n: bad")
        XCTAssertEqual(store.config.interval, 5)
        XCTAssertEqual(store.configError, "/m/config/n: bad")
        store.reject(.fleetDefault, reason: "/m/config/default: worse")
        XCTAssertEqual(store.configError, "/m/config/n: bad; /m/config/default: worse")
        store.set(.node, AgentConfigPatch(interval: 6))
        XCTAssertEqual(store.configError, "/m/config/default: worse")
    }

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
