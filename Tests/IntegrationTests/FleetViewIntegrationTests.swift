import EtcdClient
import FleetModel
import Foundation
import SystemdTestKit
import XCTest

/// Issue 3 behaviour of the daemons: registry, stale, thresholds, default config.
final class FleetViewIntegrationTests: DaemonTestCase {
    func testAgentRegistersAndAStoppedNodeStaysStoppedADeadOneDeadAcrossServerRestarts() throws {
        let a = try startAgent(node: "r1"), b = try startAgent(node: "r2", ttl: 2)
        try a.waitForLine("registered as node r1")
        try b.waitForLine("registered as node r2")
        let record = try NodeRecord.parse(try XCTUnwrap(client.range("\(prefix)/nodes/r1").kvs.first).value)
        XCTAssertEqual(record.node, "r1")
        XCTAssertFalse(record.stopped)
        a.signal(SIGTERM)
        XCTAssertEqual(a.waitExit(timeout: 2), 0)
        let stopped = try NodeRecord.parse(try XCTUnwrap(client.range("\(prefix)/nodes/r1").kvs.first).value)
        XCTAssertTrue(stopped.stopped)
        XCTAssertNotNil(stopped.stoppedAt)
        b.signal(SIGKILL)
        _ = b.waitExit(timeout: 2)
        Thread.sleep(forTimeInterval: 3) // r2's lease expires

        // A server started now knows both from the registry alone.
        let notify = try NotifyRecorder()
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", try settingsFile()],
                                       environment: ["NOTIFY_SOCKET": notify.address])
        try notify.waitFor { $0 == "STATUS=2 nodes: 1 stopped, 1 dead" }
        XCTAssertFalse(server.output.contains("node r2 DEAD"), "a death that happened before is state, not news")
    }

    func testAHungWorkLoopWithALiveLeaseIsStaleThenAliveAgain() throws {
        let server = try startServer()
        let lease = try client.grantLease(ttl: 5)
        let key = "\(prefix)/heartbeat/hung"
        let value = Heartbeat(ts: Date().timeIntervalSince1970, hostname: "hung", interval: 1, node: "hung").encoded()
        try client.put(key, value: value, lease: lease.id)
        try server.waitForLine("node hung ALIVE (first seen)")
        // Keep the lease alive but put nothing: 3 rounds of 1 s later it is stale.
        let t0 = Date()
        var staleAt: Date?
        while staleAt == nil && Date().timeIntervalSince(t0) < 6 {
            try client.keepAlive(lease.id)
            staleAt = try? server.waitForLine("node hung STALE", timeout: 1)
        }
        let seen = try XCTUnwrap(staleAt, server.output)
        print("last round -> STALE: \(ms(seen.timeIntervalSince(t0))) (3 rounds of 1 s)")
        XCTAssertGreaterThan(seen.timeIntervalSince(t0), 2.9)
        XCTAssertTrue(server.output.contains("state=stale"))
        try client.put(key, value: value, lease: lease.id)
        try server.waitForLine("node hung ALIVE (rounds resumed)")
    }

    func testThresholdCrossingWarnsOnceAndRecoveryOnce() throws {
        let server = try startServer()
        let lease = try client.grantLease(ttl: 5)
        let key = "\(prefix)/heartbeat/hot"
        func put(cpu: Double) throws {
            try client.put(key, value: Heartbeat(ts: Date().timeIntervalSince1970, hostname: "hot", interval: 10,
                                                  metrics: ["cpu": cpu, "memory": 20]).encoded(), lease: lease.id)
        }
        try put(cpu: 10)
        try server.waitForLine("node hot ALIVE")
        try put(cpu: 95)
        try put(cpu: 97)
        try server.waitForLine("node hot CPU_HIGH (cpu 95.0% >= 90%)")
        try put(cpu: 88) // within the hysteresis: still high
        try put(cpu: 40)
        try server.waitForLine("node hot CPU_OK (cpu back to 40.0%)")
        XCTAssertEqual(server.output.components(separatedBy: "CPU_HIGH (").count - 1, 1)
        XCTAssertEqual(server.output.components(separatedBy: "CPU_OK (").count - 1, 1)
    }

    /// 50 puts claiming a 1 ms interval once gave 50 STALE and 50 ALIVE lines: the
    /// value is flagged and judged by the default interval instead.
    func testAHeartbeatClaimingAOneMillisecondIntervalDoesNotFlap() throws {
        let server = try startServer()
        let lease = try client.grantLease(ttl: 10)
        for i in 0..<50 {
            try client.put("\(prefix)/heartbeat/fast", value: Heartbeat(ts: Date().timeIntervalSince1970, hostname: "fast",
                                                                        interval: 0.001, seq: Int64(i)).encoded(), lease: lease.id)
            usleep(20_000)
        }
        try server.waitForLine("node fast ALIVE")
        try server.waitForLine("interval 0.001 s is outside 1 to 86400")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(server.output.components(separatedBy: "node fast ").count - 1, 1, "one ALIVE line, nothing else:\n\(server.output)")
        XCTAssertFalse(server.output.contains("STALE"), server.output)
    }

    func testDefaultConfigAppliesToNodesWithoutTheirOwnKeyAndNodeKeysOverrideFieldByField() throws {
        try client.put("\(prefix)/config/default", #"{"interval": 3, "metrics": ["cpu"]}"#)
        let agent = try startAgent(node: "d1")
        try agent.waitForLine("interval 10s -> 3s")
        try client.put("\(prefix)/config/d1", #"{"interval": 1}"#)
        try agent.waitForLine("interval 3s -> 1s, metrics [cpu] (unchanged)")
        let t0 = Date()
        try client.delete("\(prefix)/config/d1")
        try agent.waitForLine("config key \(prefix)/config/d1 deleted, falling back to the default: interval 3s, metrics [cpu]", after: t0)
        try client.delete("\(prefix)/config/default")
        try agent.waitForLine("falling back to built-in defaults: interval 10s", after: t0)
    }
}
