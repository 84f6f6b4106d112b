import Concurrency
import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
@testable import MonitorCtlKit
import SafeText
import XCTest

/// `monitorctl node forget` and `monitorctl watch` against a real etcd.
final class MonitorctlNodeWatchTests: CtlTestCase {
    let now = Date().timeIntervalSince1970


    func testForget() throws {
        let unknown = fleet.run(["node", "forget", "ghost"])
        XCTAssertEqual(unknown.code, 1)
        XCTAssertEqual(unknown.stderr, "monitorctl: unknown node \"ghost\": no registry entry at \(fleet.layout.registry("ghost")) "
                       + "and no recorded state at \(fleet.layout.state("ghost"))\n")

        try fleet.register("gone", lastStart: now - 100)
        try fleet.client.put(fleet.layout.config("gone"), #"{"interval": 2}"#)
        let forgotten = fleet.run(["node", "forget", "gone"])
        XCTAssertEqual(forgotten.code, 0, forgotten.stderr)
        XCTAssertEqual(forgotten.stdout, "forgot gone (deleted \(fleet.layout.registry("gone")))\n")
        XCTAssertNil(try fleet.value(fleet.layout.registry("gone")))
        XCTAssertNotNil(try fleet.value(fleet.layout.config("gone")), "config key kept")
        XCTAssertEqual(fleet.run(["status"]).stdout.hasPrefix("No nodes"), true)
    }

    func testForgetRefusesAnAliveNodeUnlessForced() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.register("busy", lastStart: now - 100)
        try fleet.heartbeat("busy", agentHeartbeat("busy", ts: now), lease: lease.id)
        let refused = fleet.run(["node", "forget", "busy"])
        XCTAssertEqual(refused.code, 1)
        XCTAssertEqual(refused.stderr, "monitorctl: node busy is alive (\(fleet.layout.heartbeat("busy")) is present); "
                       + "stop its agent first, or use --force\n")
        XCTAssertNotNil(try fleet.value(fleet.layout.registry("busy")))

        let forced = fleet.run(["node", "forget", "busy", "--force"])
        XCTAssertEqual(forced.code, 0)
        XCTAssertNil(try fleet.value(fleet.layout.registry("busy")))
        XCTAssertTrue(forced.stderr.contains("heartbeat is still present"), forced.stderr)

        XCTAssertEqual(fleet.run(["node", "forget", "default"]).code, 1, "just a node name here: unknown")
        XCTAssertEqual(fleet.run(["node", "forget", "a/b"]).code, 2)
    }

    func testWatchReportsTransitions() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("early", agentHeartbeat("early", ts: now), lease: lease.id)

        let output = CapturedOutput()
        // Unchecked: the watch thread alone uses the runner until the test stops it
        // through its stop signal, which is Sendable.
        nonisolated(unsafe) let runner = MonitorctlRunner(output: output, now: { 1_795_000_000 })
        let finished = expectation(description: "watch returned")
        let code = Locked<Int32>(-1)
        let arguments = ["watch", "--config", fleet.configPath]
        Thread.detachNewThread {
            let result = runner.run(arguments)
            code.withLock { $0 = result }
            finished.fulfill()
        }
        try waitFor(output, "early ALIVE")

        let w1 = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("w1", agentHeartbeat("w1", ts: now), lease: w1.id)
        try fleet.heartbeat("w1", agentHeartbeat("w1", ts: now + 1), lease: w1.id)  // a round: no line
        try waitFor(output, "w1 ALIVE")
        try fleet.heartbeat("w1", agentHeartbeat("w1", ts: now + 2, status: Heartbeat.stopping), lease: w1.id)
        try fleet.client.revoke(w1.id)                                                   // clean stop
        try waitFor(output, "w1 LEFT")
        // A lease kept alive without new rounds: STALE after 3 intervals, as the server says.
        let slow = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("slow", agentHeartbeat("slow", ts: now, interval: 1), lease: slow.id)
        try waitFor(output, "slow ALIVE")
        try waitFor(output, "slow STALE", timeout: 6)
        try fleet.heartbeat("slow", agentHeartbeat("slow", ts: now + 4, interval: 1), lease: slow.id)
        try waitFor(output, "slow ALIVE\n2026-11-18T11:06:40Z slow STALE\n2026-11-18T11:06:40Z slow ALIVE")
        try fleet.client.revoke(slow.id)
        try waitFor(output, "slow DEAD")
        try fleet.client.revoke(lease.id)                                                // crash
        try waitFor(output, "early DEAD")

        runner.stopSignal.stop()
        wait(for: [finished], timeout: 5)
        XCTAssertEqual(code.withLock { $0 }, 0)
        XCTAssertEqual(output.stdout, """
            2026-11-18T11:06:40Z early ALIVE
            2026-11-18T11:06:40Z w1 ALIVE
            2026-11-18T11:06:40Z w1 LEFT
            2026-11-18T11:06:40Z slow ALIVE
            2026-11-18T11:06:40Z slow STALE
            2026-11-18T11:06:40Z slow ALIVE
            2026-11-18T11:06:40Z slow DEAD
            2026-11-18T11:06:40Z early DEAD

            """)
        XCTAssertTrue(output.stderr.hasPrefix("monitorctl: watching \(fleet.layout.prefix)/ from revision "),
                      output.stderr)
    }

    /// `watch -o json`: JSON lines, one object per transition.
    func testWatchJSONLines() throws {
        let output = CapturedOutput()
        nonisolated(unsafe) let runner = MonitorctlRunner(output: output, now: { 1_795_000_000 })
        let finished = expectation(description: "watch returned")
        let arguments = ["--config", fleet.configPath, "watch", "-o", "json"]
        Thread.detachNewThread {
            _ = runner.run(arguments)
            finished.fulfill()
        }
        try waitFor(output, "from revision", stderr: true)
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("j1", agentHeartbeat("j1", ts: now), lease: lease.id)
        try waitFor(output, #""event":"ALIVE""#)
        try fleet.client.revoke(lease.id)
        try waitFor(output, #""event":"DEAD""#)
        runner.stopSignal.stop()
        wait(for: [finished], timeout: 5)
        let lines = output.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, output.stdout)
        let objects = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary) }
        XCTAssertEqual(objects.first, ["time": 1_795_000_000, "node": "j1", "event": "ALIVE", "state": "alive", "detail": "first seen"])
        XCTAssertEqual(objects.last?["state"] as? String, "dead")
    }

    func testWatchFailsClearlyWhenEtcdIsUnreachable() throws {
        let unreachable = "http://127.0.0.1:\(try EtcdCluster.freePort())"
        let result = fleet.run(["watch", "--endpoints", unreachable])
        XCTAssertEqual(result.code, 1)
        XCTAssertTrue(result.stderr.hasPrefix("monitorctl: watching \(fleet.layout.prefix)/: etcd unreachable at \(unreachable)"),
                      result.stderr)
    }

    /// Names and values written straight into etcd by someone else: no control
    /// character reaches the terminal, no row is forged, the rule-breaking name is
    /// marked, and the command the note prints removes it.
    func testHostileNamesAreEscapedMarkedAndForgettable() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        let evil = "evil\nfake1   alive   1s ago\u{1b}]0;owned\u{7}\u{1b}[2J'q"
        let record = NodeRecord(node: evil, hostname: "h\u{1b}[31m", version: "0.1.0", firstStart: now - 60, lastStart: now - 60)
        try fleet.client.put(fleet.layout.registry(evil), value: record.encoded())
        try fleet.heartbeat("ok1", agentHeartbeat("ok1", ts: now, configError: "bad\u{1b}[2J\u{9b}31m value\nforged note"), lease: lease.id)
        try fleet.register("ok1", lastStart: now - 60)

        let status = fleet.run(["status"], now: now)
        let controls = status.stdout.unicodeScalars.filter { $0 != "\n" && SafeText.needsEscape($0) }
        XCTAssertTrue(controls.isEmpty, "raw controls in: \(status.stdout.debugDescription)")
        let rows = tableRows(status.stdout.components(separatedBy: "\n\n")[0])
        XCTAssertEqual(rows.count, 3, "header, the evil node and ok1: nothing forged\n\(status.stdout)")
        let escaped = #"evil\nfake1\x20\x20\x20alive\x20\x20\x201s\x20ago\x1b]0;owned\x07\x1b[2J'q"#
        XCTAssertEqual(rows[1].first, String(escaped.prefix(63)) + "…!", "one cell, escaped, cut to 64, marked")
        XCTAssertTrue(status.stdout.contains(#"ok1: config error: bad\x1b[2J\x9b31m value\nforged note"#), status.stdout)
        let hint = try XCTUnwrap(status.stdout.split(separator: "\n").first { $0.contains("breaks the node-name rule") })
        let quoted = try XCTUnwrap(hint.range(of: "node forget --registry-key '")).upperBound
        // The key as a shell would pass it: the note quotes ' as '\''.
        let key = String(hint[quoted...].dropLast()).replacingOccurrences(of: #"'\''"#, with: "'")

        let forgot = fleet.run(["node", "forget", "--registry-key", key])
        XCTAssertEqual(forgot.code, 0, forgot.stderr)
        XCTAssertNil(try fleet.value(fleet.layout.registry(evil)))
        XCTAssertFalse(forgot.stdout.unicodeScalars.contains { $0 != "\n" && SafeText.needsEscape($0) }, forgot.stdout)
        XCTAssertEqual(fleet.run(["node", "forget", "--registry-key", #"/x\q"#]).code, 2, "a bad escape is a usage error")
        XCTAssertEqual(fleet.run(["node", "forget", "--registry-key", "/elsewhere/x"]).code, 2, "only registry keys")
        XCTAssertEqual(fleet.run(["node", "forget"]).code, 2, "a name or --registry-key")
    }

    func testWatchLinesEscapeNames() throws {
        let output = CapturedOutput()
        // Unchecked: the watch thread alone uses the runner until the test stops it
        // through its stop signal, which is Sendable.
        nonisolated(unsafe) let runner = MonitorctlRunner(output: output, now: { 1_795_000_000 })
        let finished = expectation(description: "watch returned")
        let arguments = ["watch", "--config", fleet.configPath]
        Thread.detachNewThread {
            _ = runner.run(arguments)
            finished.fulfill()
        }
        // Synced first, so the node arrives as an event.
        let deadline = Date().addingTimeInterval(10)
        while !output.stderr.contains("from revision") && Date() < deadline { usleep(20_000) }
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("x\n2026-11-18T11:06:40Z ok DEAD\u{1b}[2J", agentHeartbeat("x", ts: now), lease: lease.id)
        try waitFor(output, #"2026-11-18T11:06:40Z x\n2026-11-18T11:06:40Z\x20ok\x20DEAD\x1b[2J! ALIVE"#)
        runner.stopSignal.stop()
        wait(for: [finished], timeout: 5)
        XCTAssertEqual(output.stdout.split(separator: "\n").count, 1, output.stdout)
    }

    private func waitFor(_ output: CapturedOutput, _ text: String, timeout: Double = 10, stderr: Bool = false) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !(stderr ? output.stderr : output.stdout).contains(text) {
            guard Date() < deadline else { return XCTFail("no \"\(text)\" in: \(output.stdout) / \(output.stderr)") }
            usleep(20_000)
        }
    }
}
