import EtcdClient
@testable import MonitorCtlKit
import XCTest

/// The pure parts: human units, the table, assignments, transitions.
final class MonitorctlFormatTests: XCTestCase {
    func testHumanUnits() {
        XCTAssertEqual(HumanFormat.ago(1000 - 12, now: 1000), "12s ago")
        XCTAssertEqual(HumanFormat.ago(1000 - 0.4, now: 1000), "0s ago")
        XCTAssertEqual(HumanFormat.ago(1000 + 0.5, now: 1000), "0s ago", "sub-second skew is noise")
        XCTAssertEqual(HumanFormat.ago(1000 + 5, now: 1000), "in 5s")
        XCTAssertEqual(HumanFormat.ago(nil, now: 1000), "-")
        XCTAssertEqual(HumanFormat.duration(119), "119s")
        XCTAssertEqual(HumanFormat.duration(180), "3m")
        XCTAssertEqual(HumanFormat.duration(3 * 3600 + 59), "3h")
        XCTAssertEqual(HumanFormat.duration(49 * 3600), "2d")
        XCTAssertEqual(HumanFormat.rate(512), "512 B/s")
        XCTAssertEqual(HumanFormat.rate(0), "0 B/s")
        XCTAssertEqual(HumanFormat.rate(1_258_291), "1.2 MiB/s")
        XCTAssertEqual(HumanFormat.rate(150 * 1024), "150 KiB/s")
        XCTAssertEqual(HumanFormat.rate(1024 * 1024 - 1), "1.0 MiB/s")
        XCTAssertEqual(HumanFormat.rate(nil), "-")
        XCTAssertEqual(HumanFormat.bytes(16 * 1024 * 1024 * 1024), "16.0 GiB")
        XCTAssertEqual(HumanFormat.percent(12.345), "12.3%")
        XCTAssertEqual(HumanFormat.interval(10), "10s")
        XCTAssertEqual(HumanFormat.interval(2.5), "2.5s")
        XCTAssertEqual(HumanFormat.timestamp(1_795_000_000.9), "2026-11-18T11:06:40Z")
    }

    func testTable() {
        var table = TextTable(header: ["NODE", "STATE"])
        table.append(["worker-long", "alive"])
        table.append(["w", "dead"])
        XCTAssertEqual(table.render(), "NODE          STATE\nworker-long   alive\nw             dead\n")
    }

    func testAssignments() throws {
        let fields = try ConfigValue.parseAssignments(["interval=2", "metrics= cpu , disk read,net,"])
        XCTAssertEqual(fields["interval"] as? Int64, 2)
        XCTAssertEqual(fields["metrics"] as? [String], ["cpu", "disk read", "net"])
        XCTAssertEqual(try ConfigValue.parseAssignments(["interval=1.5"])["interval"] as? Double, 1.5)
        XCTAssertTrue(try ConfigValue.parseAssignments(["metrics="])["metrics"] is NSNull, "empty: reset to the default")
        XCTAssertTrue(try ConfigValue.parseAssignments(["interval= "])["interval"] is NSNull)
        XCTAssertEqual(ConfigValue.applying(["metrics": ConfigValue.reset, "interval": 3], to: ["metrics": ["cpu"], "owner": "ops"])
                       as NSDictionary, ["interval": 3, "owner": "ops"])
        XCTAssertThrowsError(try ConfigValue.parseAssignments(["interval=86401"]))
    }

    func testSuggestions() {
        XCTAssertEqual(Suggestion.distance("alpah", "alpha"), 1, "a swapped pair is one edit")
        XCTAssertEqual(Suggestion.distance("", "abc"), 3)
        XCTAssertEqual(Suggestion.distance("kitten", "sitting"), 3)
        XCTAssertEqual(Suggestion.closest(to: "alpah", among: ["beta", "alpha", "alps"]), "alpha")
        XCTAssertEqual(Suggestion.closest(to: "stauts", among: ["status", "watch"]), "status")
        XCTAssertNil(Suggestion.closest(to: "zzzzzz", among: ["alpha", "beta"]), "nothing close: no suggestion")
        XCTAssertNil(Suggestion.closest(to: "ab", among: ["xy"]))
        XCTAssertEqual(Suggestion.hint(for: "alpah", among: ["alpha"]), "; did you mean 'alpha'?")
        XCTAssertEqual(Suggestion.hint(for: "q", among: ["alpha"]), "")
        XCTAssertEqual(Suggestion.unknownCommand(in: ["--endpoints", "x:1", "stauts"]),
                       "unknown command 'stauts' for 'monitorctl'; did you mean 'status'? "
                       + "(expected one of: status, config, node, watch, endpoints, auth, help)")
        XCTAssertEqual(Suggestion.unknownCommand(in: ["config", "lsit"])?.hasPrefix("unknown command 'lsit' for 'monitorctl config'; did you mean 'list'?"), true)
        XCTAssertNil(Suggestion.unknownCommand(in: ["status", "--bogus"]), "a known command: the parser's error stands")
        XCTAssertNil(Suggestion.unknownCommand(in: ["--endpoints", "status"]), "the option's value is not a command word")
        // Built-in options end parsing by throwing too: they are not unknown commands.
        let output = CapturedOutput()
        XCTAssertEqual(MonitorctlRunner(output: output).run(["--generate-completion-script", "bash"]), 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("_monitorctl"), "the bash completion script")
    }
}
