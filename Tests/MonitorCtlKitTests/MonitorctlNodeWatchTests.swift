import Concurrency
import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
@testable import MonitorCtlKit
import XCTest

/// `monitorctl node forget` and `monitorctl watch` against a real etcd.
final class MonitorctlNodeWatchTests: CtlTestCase {
    let now = Date().timeIntervalSince1970


    func testForget() throws {
        let unknown = fleet.run(["node", "forget", "ghost"])
        XCTAssertEqual(unknown.code, 1)
        XCTAssertEqual(unknown.stderr, "monitorctl: unknown node \"ghost\": no registry entry at \(fleet.layout.registry("ghost"))\n")

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

    func testWatchFailsClearlyWhenEtcdIsUnreachable() throws {
        let unreachable = "http://127.0.0.1:\(try EtcdCluster.freePort())"
        let result = fleet.run(["watch", "--endpoints", unreachable])
        XCTAssertEqual(result.code, 1)
        XCTAssertTrue(result.stderr.hasPrefix("monitorctl: watching \(fleet.layout.prefix)/: etcd unreachable at \(unreachable)"),
                      result.stderr)
    }

    private func waitFor(_ output: CapturedOutput, _ text: String, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !output.stdout.contains(text) {
            guard Date() < deadline else { return XCTFail("no \"\(text)\" in: \(output.stdout) / \(output.stderr)") }
            usleep(20_000)
        }
    }
}
