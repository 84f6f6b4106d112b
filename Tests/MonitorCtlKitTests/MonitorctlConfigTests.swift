import EtcdClient
import EtcdTestSupport
import Foundation
@testable import MonitorCtlKit
import XCTest

/// `monitorctl config get|set|edit` against a real etcd.
final class MonitorctlConfigTests: CtlTestCase {
    var key: String { fleet.layout.config("worker1") }

    /// worker1 has registered: config set and edit refuse unknown nodes.
    override func setUpWithError() throws {
        try super.setUpWithError()
        try fleet.register("worker1", lastStart: Date().timeIntervalSince1970 - 60)
    }

    func testSetCreatesAndMergesField() throws {
        var result = fleet.run(["config", "set", "worker1", "interval=2"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval":2}"#)
        XCTAssertEqual(result.stdout, """
            \(key): {"interval":2}
            worker1: interval 10s -> 2s, metrics [cpu, memory, disk read, disk write, net in, net out] (unchanged)

            """)

        // Only the given field changes; fields this version does not know are kept.
        try fleet.client.put(key, #"{"interval": 2, "owner": "ops"}"#)
        result = fleet.run(["config", "set", "worker1", "metrics=cpu, memory,disk"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(try fleet.object(key), ["interval": 2, "owner": "ops", "metrics": ["cpu", "memory", "disk"]])

        result = fleet.run(["config", "set", "worker1", "interval=2.5", "metrics=net"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(try fleet.object(key), ["interval": 2.5, "owner": "ops", "metrics": ["net"]])

        let revision = try fleet.client.range(key).kvs.first?.modRevision
        result = fleet.run(["config", "set", "worker1", "interval=2.5"])
        XCTAssertEqual(result.code, 0)
        XCTAssertTrue(result.stdout.hasPrefix("\(key) unchanged"), result.stdout)
        XCTAssertEqual(try fleet.client.range(key).kvs.first?.modRevision, revision, "nothing written")
    }

    func testSetDefaultKey() throws {
        let result = fleet.run(["config", "set", "default", "metrics=cpu"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(try fleet.value(fleet.layout.defaultConfig), #"{"metrics":["cpu"]}"#)
        XCTAssertTrue(result.stdout.contains("nodes without their own key: interval 10s (unchanged), metrics "
                                             + "[cpu, memory, disk read, disk write, net in, net out] -> [cpu]"), result.stdout)
    }

    func testSetRejectsInvalidValuesWithoutWriting() throws {
        try fleet.client.put(key, #"{"interval": 5}"#)
        let cases: [([String], String)] = [
            (["interval=0"], "interval=0: expected a number of seconds from 1 to 86400"),
            (["interval=10s"], "interval=10s: expected a number of seconds from 1 to 86400"),
            (["interval=nan"], "interval=nan: expected a number of seconds from 1 to 86400"),
            (["interval=0x10"], "interval=0x10: expected a number of seconds from 1 to 86400"),
            (["interval=1e1"], "interval=1e1: expected a number of seconds from 1 to 86400"),
            (["interval=+5"], "interval=+5: expected a number of seconds from 1 to 86400"),
            (["metrics=cpu,gpu,disk"], "unknown metric \"gpu\"; known names: cpu, memory, disk read, disk write, "
                + "net in, net out (shorthands: disk, net)"),
            (["color=red"], "unknown field \"color\": expected interval=SECONDS (1 to 86400) or metrics=NAME[,NAME...]"),
            (["interval"], "\"interval\": expected interval=SECONDS (1 to 86400) or metrics=NAME[,NAME...]"),
            (["interval=1", "interval=2"], "interval given twice"),
            ([], "expected at least one interval=SECONDS (1 to 86400) or metrics=NAME[,NAME...]"),
        ]
        for (assignments, message) in cases {
            let result = fleet.run(["config", "set", "worker1"] + assignments)
            XCTAssertEqual(result.code, 2, "\(assignments)")
            XCTAssertTrue(result.stderr.hasPrefix("Error: \(message)\n"), "\(assignments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "")
        }
        let badNode = fleet.run(["config", "set", "../etc", "interval=2"])
        XCTAssertEqual(badNode.code, 2)
        XCTAssertTrue(badNode.stderr.contains("invalid node name \"../etc\""), badNode.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval": 5}"#, "never written")
    }

    func testSetRefusesAMergedValueAgentsWouldReject() throws {
        try fleet.client.put(key, #"{"interval": "fast", "metrics": ["cpu"]}"#)
        let refused = fleet.run(["config", "set", "worker1", "metrics=memory"])
        XCTAssertEqual(refused.code, 2)
        XCTAssertTrue(refused.stderr.contains("would be rejected: \"interval\": expected a number of seconds from 1 to 86400, got \"fast\""),
                      refused.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval": "fast", "metrics": ["cpu"]}"#)
        // Setting the bad field too repairs it.
        XCTAssertEqual(fleet.run(["config", "set", "worker1", "metrics=memory", "interval=3"]).code, 0)
        XCTAssertEqual(try fleet.object(key), ["interval": 3, "metrics": ["memory"]])

        // A value that is not even an object is replaced, with a note.
        try fleet.client.put(key, "garbage")
        let replaced = fleet.run(["config", "set", "worker1", "interval=4"])
        XCTAssertEqual(replaced.code, 0)
        XCTAssertTrue(replaced.stderr.contains("replacing the unreadable value of \(key)"), replaced.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval":4}"#)
    }

    func testSetKeepsAConcurrentChange() throws {
        try fleet.client.put(key, #"{"interval": 10}"#)
        var attempts: [Int] = []
        let result = fleet.run(["config", "set", "worker1", "metrics=cpu"], beforeWrite: { attempt in
            attempts.append(attempt)
            // Someone else changes the interval between our read and our write.
            if attempt == 1 { _ = try? self.fleet.client.put(self.key, #"{"interval": 7, "owner": "ops"}"#) }
        })
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(attempts, [1, 2], "the first compare-and-swap lost and was retried")
        XCTAssertEqual(try fleet.object(key), ["interval": 7, "owner": "ops", "metrics": ["cpu"]])
    }

    func testSetGivesUpWhenTheKeyKeepsChanging() throws {
        var n = 0
        let result = fleet.run(["config", "set", "worker1", "interval=2"], beforeWrite: { _ in
            n += 1
            _ = try? self.fleet.client.put(self.key, #"{"interval": \#(30 + n)}"#)
        })
        XCTAssertEqual(result.code, 1)
        XCTAssertEqual(result.stderr, "monitorctl: \(key) kept changing during 5 attempts; nothing written\n")
        XCTAssertEqual(try fleet.value(key), #"{"interval": 35}"#)
    }

    func testGet() throws {
        var result = fleet.run(["config", "get", "worker1"])
        XCTAssertEqual(result.code, 0)
        XCTAssertEqual(result.stdout, """
            # \(key): not set
            # \(fleet.layout.defaultConfig): not set
            # effective for worker1 (built-in defaults, then \(fleet.layout.defaultConfig), then \(key))
            {"interval":10,"metrics":["cpu","memory","disk read","disk write","net in","net out"]}

            """)

        let nodeRevision = try fleet.client.put(key, #"{"interval": 2}"#)
        let defaultRevision = try fleet.client.put(fleet.layout.defaultConfig, #"{"interval": 30, "metrics": ["cpu", "gpu"]}"#)
        result = fleet.run(["config", "get", "worker1"])
        XCTAssertEqual(result.stdout, """
            # \(key) (mod revision \(nodeRevision))
            {"interval": 2}
            # \(fleet.layout.defaultConfig) (mod revision \(defaultRevision)): unknown metric names, ignored by agents: "gpu"
            {"interval": 30, "metrics": ["cpu", "gpu"]}
            # effective for worker1 (built-in defaults, then \(fleet.layout.defaultConfig), then \(key))
            {"interval":2,"metrics":["cpu","gpu"]}

            """)

        result = fleet.run(["config", "get", "default"])
        XCTAssertTrue(result.stdout.hasSuffix("""
            # effective for nodes without their own key (built-in defaults, then \(fleet.layout.defaultConfig))
            {"interval":30,"metrics":["cpu","gpu"]}

            """), result.stdout)

        try fleet.client.put(key, #"{"interval": 0}"#)
        result = fleet.run(["config", "get", "worker1"])
        XCTAssertTrue(result.stdout.contains("INVALID, agents ignore it and keep their last good value: \"interval\": expected"),
                      result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("{\"interval\":30,\"metrics\":[\"cpu\",\"gpu\"]}\n"), result.stdout)
    }

    // MARK: edit

    /// An $EDITOR that records the file's mode and content, then writes `content`.
    private func editor(writing content: String?) throws -> (environment: [String: String], seen: String) {
        let dir = harness.directory
        let script = dir + "/editor-\(UUID().uuidString.prefix(6)).sh"
        let seen = script + ".seen"
        let write = content.map { "cat > \"$1\" <<'MONITORCTL_EOF'\n\($0)\nMONITORCTL_EOF\n" } ?? ""
        try "#!/bin/sh\nstat -c %a \"$1\" > '\(seen)'\ncat \"$1\" >> '\(seen)'\n\(write)"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o700)
        return (["EDITOR": script, "TMPDIR": dir], seen)
    }

    func testEditWritesTheValidatedValue() throws {
        try fleet.client.put(key, #"{"metrics":["cpu"],"interval":10}"#)
        let (environment, seen) = try editor(writing: #"{"interval": 3, "metrics": ["cpu", "net"], "owner": "ops"}"#)
        let result = fleet.run(["config", "edit", "worker1"], environment: environment)
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval":3,"metrics":["cpu","net"],"owner":"ops"}"#)
        XCTAssertEqual(result.stdout, "\(key): {\"interval\":3,\"metrics\":[\"cpu\",\"net\"],\"owner\":\"ops\"}\n")
        let shown = try String(contentsOfFile: seen, encoding: .utf8)
        XCTAssertTrue(shown.hasPrefix("600\n{\n"), "mode 0600, pretty-printed: \(shown)")
        XCTAssertTrue(shown.contains(#""interval" : 10"#), shown)
        XCTAssertEqual(try leftoverEditFiles(), [], "temporary file removed")
    }

    func testEditWithoutChangesWritesNothing() throws {
        let (environment, seen) = try editor(writing: nil)
        let result = fleet.run(["config", "edit", "worker1"], environment: environment)
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(result.stdout, "\(key): no changes, nothing written\n")
        XCTAssertNil(try fleet.value(key))
        XCTAssertEqual(try String(contentsOfFile: seen, encoding: .utf8), "600\n{}\n", "an absent key starts as {}")
    }

    func testEditRejectsInvalidValue() throws {
        try fleet.client.put(key, #"{"interval": 10}"#)
        let (environment, _) = try editor(writing: #"{"interval": 10, "metrics": ["cpu", "gpu"]}"#)
        let result = fleet.run(["config", "edit", "worker1"], environment: environment)
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.stderr.hasPrefix("monitorctl: invalid value: \"metrics\": unknown metric \"gpu\""), result.stderr)
        XCTAssertTrue(result.stderr.contains("nothing written (your edit is kept in "), result.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval": 10}"#)
        XCTAssertEqual(try leftoverEditFiles().count, 1)
        try cleanEditFiles()

        let (notJSON, _) = try editor(writing: "interval: 5")
        let bad = fleet.run(["config", "edit", "worker1"], environment: notJSON)
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("monitorctl: invalid value: not valid JSON"), bad.stderr)
        try cleanEditFiles()
    }

    func testEditRefusesWhenTheKeyChangedMeanwhile() throws {
        let revision = try fleet.client.put(key, #"{"interval": 10}"#)
        let (environment, _) = try editor(writing: #"{"interval": 3}"#)
        let result = fleet.run(["config", "edit", "worker1"], environment: environment, beforeWrite: { _ in
            _ = try? self.fleet.client.put(self.key, #"{"interval": 20}"#)
        })
        XCTAssertEqual(result.code, 1)
        XCTAssertTrue(result.stderr.hasPrefix("monitorctl: \(key) changed while you were editing (mod revision \(revision) -> "),
                      result.stderr)
        XCTAssertTrue(result.stderr.contains("nothing written (your edit is kept in "), result.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval": 20}"#, "the other change is not lost")
        try cleanEditFiles()
    }

    func testEditorFailure() throws {
        let result = fleet.run(["config", "edit", "worker1"], environment: ["EDITOR": "false", "TMPDIR": harness.directory])
        XCTAssertEqual(result.code, 1)
        XCTAssertEqual(result.stderr, "monitorctl: the editor \"false\" exited with status 1; nothing written\n")
        XCTAssertEqual(try leftoverEditFiles(), [])
    }

    private func leftoverEditFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: harness.directory).filter { $0.hasPrefix("monitorctl-") }
    }

    private func cleanEditFiles() throws {
        for name in try leftoverEditFiles() { try FileManager.default.removeItem(atPath: harness.directory + "/" + name) }
    }
}
