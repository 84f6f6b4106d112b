import EtcdClient
import EtcdTestSupport
import Foundation
import XCTest

/// Issue 13, part 3: a server that cannot see etcd says so and derives nothing
/// from the rounds it cannot see; a member that stops answering is found out
/// within seconds and the watches move on. Each test starts its own etcd.
final class BlindViewTests: DaemonTestCase {
    /// Once, a 36 s outage of the server's etcd reported every node STALE.
    func testAnEtcdOutageOfThreeStaleWindowsRaisesNoAlarmAndADeathDuringItIsReportedOnce() throws {
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        try EtcdClient(endpoints: etcd.endpoints).put("\(prefix)/config/default", #"{"interval": 2}"#)
        let server = try startServer(endpoints: etcd.endpoints)
        // TTL above the agents' backoff cap (8 s): their leases outlive the retry after the outage.
        let a = try startAgent(node: "o1", ttl: 10, endpoints: etcd.endpoints)
        let b = try startAgent(node: "o2", ttl: 10, endpoints: etcd.endpoints)
        try server.waitForLine("node o1 ALIVE")
        try server.waitForLine("node o2 ALIVE")
        Thread.sleep(forTimeInterval: 2)
        let down = Date()
        etcd.kill(member: 0)
        try server.waitForLine("fleet view frozen: etcd unreachable since", after: down, timeout: 5)
        Thread.sleep(forTimeInterval: 2)
        b.signal(SIGKILL) // dies while nobody can see it
        Thread.sleep(forTimeInterval: max(0, 18 - Date().timeIntervalSince(down))) // 3 x the 6 s stale window
        XCTAssertFalse(server.output.contains("event=STALE") || server.output.contains("event=DEAD"), "blind, not down:\n\(server.output)")
        try etcd.start(member: 0)
        try etcd.waitUntilReady(timeout: 10)
        let back = Date()
        // The watch may be back before etcd takes a write (`back`): look from the outage on.
        try server.waitForLine("fleet view live again", after: down, timeout: 12)
        // etcd restarts every lease with its full TTL: o2's runs out 10 s after.
        let dead = try server.waitForLine("node o2 DEAD", after: back, timeout: 20)
        print("etcd back -> the node killed during the outage reported DEAD: \(ms(dead.timeIntervalSince(back))) (TTL 10 s)")
        Thread.sleep(forTimeInterval: 3)
        XCTAssertEqual(server.output.components(separatedBy: "node o2 DEAD").count - 1, 1, "once:\n\(server.output)")
        // o2 may turn STALE a full window after the resume, before its lease runs
        // out: true then, as for any node killed with a TTL above the window.
        XCTAssertFalse(server.output.contains("node o1 STALE") || server.output.contains("node o1 DEAD"), server.output)
        XCTAssertEqual(server.output.components(separatedBy: "fleet view frozen").count - 1, 1, "said once:\n\(server.output)")
        XCTAssertNil(a.waitExit(timeout: 0))
    }

    /// A SIGSTOPped member keeps its TCP connections open and answers nothing:
    /// before the probe, the server saw every node STALE for as long as it lasted
    /// and an agent applied a config put 29 s late.
    func testAFrozenMemberIsLeftWithinSecondsWithoutAFalseAlarmOrALateConfig() throws {
        let etcd = try EtcdCluster(size: 3)
        defer { etcd.stop() }
        let leader = try etcd.leaderIndex()
        // A follower first in everyone's list: the server's and the agents'
        // watches sit on it, and freezing it costs no election.
        let frozen = (leader + 1) % 3
        let endpoints = [etcd.endpoints[frozen]] + etcd.endpoints.enumerated().filter { $0.offset != frozen }.map(\.element)
        let admin = EtcdClient(endpoints: [etcd.endpoints[leader]])
        try admin.put("\(prefix)/config/default", #"{"interval": 2}"#)
        let server = try startServer(endpoints: endpoints)
        let a = try startAgent(node: "s1", ttl: 10, endpoints: endpoints)
        let b = try startAgent(node: "s2", ttl: 10, endpoints: endpoints)
        try server.waitForLine("node s1 ALIVE")
        try server.waitForLine("node s2 ALIVE")
        try a.waitForLine("-> 2s")
        Thread.sleep(forTimeInterval: 2)
        let pid = try XCTUnwrap(etcd.pid(member: frozen))
        let t0 = Date()
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        // An operator's put right away: the agent's config watch is on the frozen member.
        try admin.put("\(prefix)/config/s1", #"{"interval": 3}"#)
        let applied = try a.waitForLine("-> 3s", after: t0, timeout: 10)
        let live = try server.waitForLine("fleet view live again", after: t0, timeout: 10)
        print("member frozen -> server watching elsewhere: \(ms(live.timeIntervalSince(t0))), "
              + "config put applied by the agent: \(ms(applied.timeIntervalSince(t0)))")
        XCTAssertLessThan(live.timeIntervalSince(t0), 5, server.output)
        XCTAssertLessThan(applied.timeIntervalSince(t0), 5, a.output)
        Thread.sleep(forTimeInterval: max(0, 30 - Date().timeIntervalSince(t0)))
        kill(pid, SIGCONT)
        Thread.sleep(forTimeInterval: 2)
        XCTAssertFalse(server.output.contains("event=STALE") || server.output.contains("event=DEAD"), server.output)
        XCTAssertEqual(server.output.components(separatedBy: "node s1 ALIVE").count - 1, 1, server.output)
        XCTAssertNil(b.waitExit(timeout: 0))
    }
}
