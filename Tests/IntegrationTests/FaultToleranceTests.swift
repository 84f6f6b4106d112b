import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
import SystemdTestKit
import XCTest

/// Issue 4: etcd restarts, leader loss, member failure, compaction, lost leases:
/// nothing lost, no false alarm. Each test starts its own etcd members.
final class FaultToleranceTests: DaemonTestCase {
    func testLeaderKilledTwiceEverythingWorksThroughTheSurvivors() throws {
        let etcd = try EtcdCluster(size: 3)
        defer { etcd.stop() }
        let all = EtcdClient(endpoints: etcd.endpoints)
        client = all
        let server = try startServer(endpoints: etcd.endpoints)
        let a = try startAgent(node: "f1", ttl: 5, endpoints: etcd.endpoints)
        let b = try startAgent(node: "f2", ttl: 5, endpoints: etcd.endpoints)
        try server.waitForLine("node f1 ALIVE")
        try server.waitForLine("node f2 ALIVE")
        for (round, interval) in [2, 3].enumerated() {
            let leader = try etcd.leaderIndex()
            let t0 = Date()
            etcd.kill(member: leader)
            // A config put made after the kill is applied through the survivors.
            var put = false
            while !put && Date().timeIntervalSince(t0) < 10 {
                put = (try? all.put("\(prefix)/config/f1", #"{"interval": \#(interval)}"#)) != nil
                if !put { usleep(100_000) }
            }
            XCTAssertTrue(put, "round \(round): cluster writable again")
            let applied = try a.waitForLine("-> \(interval)s", after: t0, timeout: 10)
            print("leader killed -> config put applied by the agent: \(ms(applied.timeIntervalSince(t0)))")
            // Longer than the TTL: leases were kept alive through the survivors.
            Thread.sleep(forTimeInterval: 6)
            XCTAssertFalse(server.output.contains("DEAD"), "no false DEAD after killing member \(leader):\n\(server.output)")
            let view = FleetView(heartbeatKVs: try all.range("\(prefix)/heartbeat/", prefix: true).kvs.map { ($0.key, $0.value) },
                                 registryKVs: try all.range("\(prefix)/nodes/", prefix: true).kvs.map { ($0.key, $0.value) },
                                 layout: KeyLayout(prefix: prefix), now: Date().timeIntervalSince1970)
            XCTAssertEqual(view.count(.alive), 2, view.summary)
            try etcd.start(member: leader)
            try etcd.waitUntilReady(timeout: 10)
        }
        let status = try DaemonProcess("monitorctl", arguments: ["status", "--config", try settingsFile(endpoints: etcd.endpoints)])
        XCTAssertEqual(status.waitExit(timeout: 10), 0, status.output)
        XCTAssertNil(a.waitExit(timeout: 0), "agents keep running")
        XCTAssertNil(b.waitExit(timeout: 0))
    }

    func testWholeEtcdRestartShorterThanTheTTLLosesNothing() throws {
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        let server = try startServer(endpoints: etcd.endpoints)
        let agent = try startAgent(node: "w1", ttl: 10, endpoints: etcd.endpoints)
        try server.waitForLine("node w1 ALIVE")
        let lease = try XCTUnwrap(try EtcdClient(endpoints: etcd.endpoints).range("\(prefix)/heartbeat/w1").kvs.first).lease
        etcd.kill(member: 0, signal: SIGTERM)
        Thread.sleep(forTimeInterval: 2)
        try etcd.start(member: 0)
        try etcd.waitUntilReady(timeout: 10)
        let back = Date()
        let c = EtcdClient(endpoints: etcd.endpoints)
        try c.put("\(prefix)/config/w1", #"{"interval": 1}"#)
        let applied = try agent.waitForLine("interval 10s -> 1s", after: back, timeout: 10)
        print("etcd restarted -> config put applied: \(ms(applied.timeIntervalSince(back)))")
        try server.waitForLine("fleet view live again", timeout: 10)
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try c.range("\(prefix)/heartbeat/w1").kvs.first?.lease, lease, "the lease survived the restart")
        XCTAssertFalse(server.output.contains("DEAD") || server.output.contains("LEFT"), server.output)
        XCTAssertEqual(server.output.components(separatedBy: "node w1 ALIVE").count - 1, 1, "exactly the real transitions")
        XCTAssertNil(agent.waitExit(timeout: 0))
        XCTAssertNil(server.waitExit(timeout: 0))
    }

    func testLongOutageCostsLittleCPUAndRecoversByItself() throws {
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        let server = try startServer(endpoints: etcd.endpoints)
        let notify = try NotifyRecorder()
        let agent = try startAgent(node: "l1", ttl: 2, endpoints: etcd.endpoints, environment: ["NOTIFY_SOCKET": notify.address])
        try server.waitForLine("node l1 ALIVE")
        etcd.kill(member: 0)
        let down = Date()
        try notify.waitFor({ $0.hasPrefix("STATUS=etcd unreachable (") && $0.contains("retrying in") }, after: down, timeout: 5)
        Thread.sleep(forTimeInterval: max(0, 1 - Date().timeIntervalSince(down)))
        let (agent0, server0, t0) = (cpuSeconds(agent), cpuSeconds(server), Date())
        Thread.sleep(forTimeInterval: 8) // four TTLs
        let wall = Date().timeIntervalSince(t0)
        let agentShare = (cpuSeconds(agent) - agent0) / wall, serverShare = (cpuSeconds(server) - server0) / wall
        print(String(format: "CPU while etcd is down: agent %.2f%%, server %.2f%% of a core (%.0f s)",
                     agentShare * 100, serverShare * 100, wall))
        XCTAssertLessThan(agentShare, 0.05)
        XCTAssertLessThan(serverShare, 0.05)
        // Reachable -> unreachable, then (the lease certainly expired) lost ->
        // unreachable again: once per state change, not per retry.
        XCTAssertLessThanOrEqual(agent.output.components(separatedBy: "event=ETCD_UNREACHABLE").count - 1, 2, agent.output)
        XCTAssertLessThanOrEqual(agent.output.components(separatedBy: "event=LEASE_LOST").count - 1, 1, agent.output)
        try etcd.start(member: 0)
        try etcd.waitUntilReady(timeout: 10)
        let back = Date()
        let recovered = try agent.waitForLine("re-registered as node l1", after: back, timeout: 12)
        print("etcd back -> agent re-registered: \(ms(recovered.timeIntervalSince(back))) (backoff cap 8 s)")
        try server.waitForLine("fleet view live again", after: back, timeout: 12)
        let kv = try XCTUnwrap(try EtcdClient(endpoints: etcd.endpoints).range("\(prefix)/heartbeat/l1").kvs.first)
        XCTAssertNotEqual(kv.lease, 0, "the heartbeat hangs on the new lease")
        try notify.waitFor({ $0.hasPrefix("STATUS=lease ") && $0.contains(" alive") }, after: back, timeout: 5)
        XCTAssertNil(agent.waitExit(timeout: 0.1), "the agent never exited")
    }

    func testAWatchResumedFromACompactedRevisionRereadsAndKeepsNoStaleConfig() throws {
        let etcd = try EtcdCluster(size: 3)
        defer { etcd.stop() }
        // The agent only knows member 0; the operator writes through the others.
        let agent = try startAgent(node: "c1", ttl: 5, endpoints: [etcd.endpoints[0]])
        try agent.waitForLine("registered as node c1")
        let others = EtcdClient(endpoints: Array(etcd.endpoints[1...]))
        try others.put("\(prefix)/config/c1", #"{"interval": 4}"#)
        try agent.waitForLine("interval 10s -> 4s")
        etcd.kill(member: 0)
        try etcd.waitUntilReady(timeout: 10)
        var last: Int64 = 0
        for i in 5...9 { last = try others.put("\(prefix)/config/c1", #"{"interval": \#(i)}"#) }
        try others.compact(revision: last)
        let t0 = Date()
        try etcd.start(member: 0)
        let applied = try agent.waitForLine("interval 4s -> 9s", after: t0, timeout: 15)
        print("member back after compaction -> latest config applied: \(ms(applied.timeIntervalSince(t0)))")
        XCTAssertFalse(agent.output.contains("-> 5s"), "intermediate values are gone with the compaction; the latest wins")
    }

    func testALeaseRevokedFromOutsideIsReGrantedAndTheServerSeesDeadThenAlive() throws {
        let server = try startServer()
        let agent = try startAgent(node: "v1", ttl: 3)
        try server.waitForLine("node v1 ALIVE")
        let lease = try XCTUnwrap(try heartbeat("v1")).lease
        let t0 = Date()
        try client.revoke(lease)
        try server.waitForLine("node v1 DEAD", after: t0, timeout: 3)
        let back = try server.waitForLine("node v1 ALIVE (back)", after: t0, timeout: 5)
        print("lease revoked -> node ALIVE again: \(ms(back.timeIntervalSince(t0))) (keepalive every TTL/3 = 1 s)")
        try agent.waitForLine("re-registered as node v1", after: t0)
        XCTAssertNotEqual(try XCTUnwrap(try heartbeat("v1")).lease, lease)
    }

    func testAWatchOnAMemberWithoutLeaderIsRefusedInsteadOfHanging() throws {
        let etcd = try EtcdCluster(size: 3)
        defer { etcd.stop() }
        let survivor = etcd.endpoints[2]
        etcd.kill(member: 0)
        etcd.kill(member: 1)
        Thread.sleep(forTimeInterval: 1.5) // election timeout 0.5 s: the survivor knows it is alone
        let t0 = Date()
        XCTAssertThrowsError(try WatchStream().run(endpoint: survivor, key: "/x", prefix: false, startRevision: 0,
                                                   onMessage: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("leader"), "\(error)")
        }
        print("watch on a leaderless member refused after \(ms(Date().timeIntervalSince(t0)))")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
    }

    func testADaemonWaitingForEtcdKeepsPettingTheWatchdog() throws {
        let notify = try NotifyRecorder()
        let dead = "http://127.0.0.1:\(try EtcdCluster.freePort())"
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", try settingsFile(node: "p1", endpoints: [dead])],
                              environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "2000000"])
        try notify.waitFor { $0.contains("READY=1") }
        try notify.waitFor { $0.hasPrefix("STATUS=etcd unreachable (connection refused)") }
        let t0 = Date()
        Thread.sleep(forTimeInterval: 12) // past the 8 s backoff cap
        XCTAssertGreaterThanOrEqual(notify.all(after: t0).filter { $0 == "WATCHDOG=1" }.count, 8)
        XCTAssertFalse(agent.output.contains("not petting"), agent.output)
    }

    func testBadDataUnderThePrefixNeverStopsTheServer() throws {
        let server = try startServer()
        let agent = try startAgent(node: "good")
        try server.waitForLine("node good ALIVE")
        let lease = try client.grantLease(ttl: 5)
        try client.put("\(prefix)/heartbeat/" + String(decoding: [0xff, 0xfe, 0x00, 0x41], as: UTF8.self), "{}", lease: lease.id)
        try client.put("\(prefix)/heartbeat/odd name ünï/x", #"{"status": 5}"#, lease: lease.id)
        try client.put("\(prefix)/heartbeat/huge", value: [UInt8](repeating: 0x7b, count: 1 << 20), lease: lease.id)
        try client.put("\(prefix)/heartbeat/array", "[1,2,3]", lease: lease.id)
        try client.put("\(prefix)/nodes/junk", "\u{0}\u{1}binary", lease: 0)
        try server.waitForLine("node huge ALIVE")
        try server.waitForLine("node array ALIVE")
        try client.revoke(lease.id)
        try server.waitForLine("node huge DEAD")
        agent.signal(SIGTERM)
        try server.waitForLine("node good LEFT")
        XCTAssertNil(server.waitExit(timeout: 0), "still running")
    }
}
