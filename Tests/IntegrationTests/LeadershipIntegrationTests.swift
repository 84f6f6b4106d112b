import EtcdClient
import FleetModel
import Foundation
import XCTest

/// Issue 13, part 2: any number of servers, one leader, every transition
/// reported exactly once, by whoever leads when it is known.
final class LeadershipIntegrationTests: DaemonTestCase {
    func startServer(_ name: String, ttl: Int = 3) throws -> DaemonProcess {
        let config = try settingsFile(extra: "[Server]\nElectionTTLSec=\(ttl)", name: name)
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", config])
        try server.waitForLine("watching from")
        return server
    }

    func count(_ text: String, in p: DaemonProcess) -> Int { p.output.components(separatedBy: text).count - 1 }

    /// The leader is SIGKILLed and a node dies a second later: the standby
    /// reports the DEAD once, after it took over, and nobody else does.
    func testAStandbyTakesOverWithinTheTTLAndReportsADeathOnce() throws {
        try client.put("\(prefix)/config/default", #"{"interval": 1}"#)
        let a = try startServer("a")
        try a.waitForLine("leading:")
        let b = try startServer("b")
        let agent = try startAgent(node: "e1", ttl: 3)
        let other = try startAgent(node: "e2", ttl: 3)
        try a.waitForLine("node e1 ALIVE")
        try a.waitForLine("node e2 ALIVE")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(count("node e1 ALIVE", in: b), 0, "a standby reports nothing:\n\(b.output)")
        let ttl = try XCTUnwrap(try client.range("\(prefix)/leader").kvs.first).lease
        XCTAssertNotEqual(ttl, 0, "the leader key is held under a lease")
        let killed = Date()
        a.signal(SIGKILL)
        Thread.sleep(forTimeInterval: 1)
        agent.signal(SIGKILL)
        let leads = try b.waitForLine("leading:", after: killed, timeout: 3 + 2)
        let dead = try b.waitForLine("node e1 DEAD", after: killed, timeout: 10)
        print("leader SIGKILLed -> standby leads: \(ms(leads.timeIntervalSince(killed))) (election TTL 3 s); "
              + "node killed 1 s later -> DEAD reported by the new leader: \(ms(dead.timeIntervalSince(killed)))")
        XCTAssertLessThan(leads.timeIntervalSince(killed), 3 + 1.5, "within the TTL + 1 s (and etcd's lease tick)")
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(count("node e1 DEAD", in: b), 1, b.output)
        XCTAssertEqual(count("node e1 DEAD", in: a), 0)
        for event in ["ALIVE", "STALE", "LEFT", "DEAD"] {
            XCTAssertEqual(count("node e2 \(event)", in: b), 0, "e2 stayed alive: nothing to say\n\(b.output)")
        }
        let kv = try XCTUnwrap(try client.range("\(prefix)/state/e1").kvs.first)
        let record = try XCTUnwrap(NodeState.parse(kv.value))
        XCTAssertEqual(record.state, .dead)
        XCTAssertNotNil(record.lastSeen)
        let transitions = ["ALIVE", "STALE", "LEFT", "DEAD"].reduce(0) { $0 + count("node e1 \($1)", in: a) + count("node e1 \($1)", in: b) }
        XCTAssertEqual(Int(kv.version), transitions, "one write per reported transition (ALIVE by the first leader, "
                       + "STALE and DEAD by the second), none per round")
        XCTAssertEqual(try XCTUnwrap(try client.range("\(prefix)/state/e2").kvs.first).version, 1, "e2: its ALIVE only")
        XCTAssertNil(other.waitExit(timeout: 0))
    }

    /// A leader stopped cleanly resigns: a standby leads within milliseconds.
    func testACleanStopHandsTheLeadOverAtOnce() throws {
        let a = try startServer("a", ttl: 10)
        try a.waitForLine("leading:")
        let b = try startServer("b", ttl: 10)
        let agent = try startAgent(node: "h1", ttl: 3)
        try a.waitForLine("node h1 ALIVE")
        Thread.sleep(forTimeInterval: 0.5)
        let stop = Date()
        a.signal(SIGTERM)
        let resigned = try a.waitForLine("resigned the lead", after: stop, timeout: 3)
        let leads = try b.waitForLine("leading:", after: stop, timeout: 3)
        print("leader stopped -> resigned: \(ms(resigned.timeIntervalSince(stop))), "
              + "standby leads \(ms(leads.timeIntervalSince(resigned))) after the resignation")
        XCTAssertLessThan(leads.timeIntervalSince(resigned), 0.1)
        XCTAssertEqual(a.waitExit(timeout: 3), 0)
        // The new leader has nothing to report (the records agree) and reports what comes.
        agent.signal(SIGTERM)
        try b.waitForLine("node h1 LEFT", timeout: 5)
        XCTAssertEqual(count("node h1 ALIVE", in: b), 0, b.output)
    }

    /// A restarted server knows who was dead or stopped since when, and says so
    /// once, without inventing a transition.
    func testARestartedServerKnowsWhoWasDeadAndStoppedSinceWhen() throws {
        let a = try startServer("a")
        let dead = try startAgent(node: "r1", ttl: 2)
        let stopped = try startAgent(node: "r2", ttl: 2)
        try a.waitForLine("node r1 ALIVE")
        try a.waitForLine("node r2 ALIVE")
        dead.signal(SIGKILL)
        stopped.signal(SIGTERM)
        try a.waitForLine("node r1 DEAD", timeout: 6)
        try a.waitForLine("node r2 LEFT", timeout: 6)
        Thread.sleep(forTimeInterval: 0.5)
        a.signal(SIGTERM)
        XCTAssertEqual(a.waitExit(timeout: 3), 0)
        let b = try startServer("b")
        try b.waitForLine("leading:")
        try b.waitForLine("node r1 dead since ")
        try b.waitForLine("node r2 stopped since ")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertFalse(b.output.contains("event=DEAD") || b.output.contains("event=LEFT") || b.output.contains("event=ALIVE"),
                       "no invented transition:\n\(b.output)")
        XCTAssertTrue(b.output.contains("last seen"), b.output)
        // monitorctl shows what the records say: since when, and when last seen.
        let status = try DaemonProcess("monitorctl", arguments: ["status", "-o", "json", "--config", try settingsFile()])
        XCTAssertEqual(status.waitExit(timeout: 10), 2, "a node is dead: CRITICAL\n\(status.output)")
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(document["nodes"] as? [[String: Any]])
        let now = Date().timeIntervalSince1970
        for (node, state) in [("r1", "dead"), ("r2", "stopped")] {
            let row = try XCTUnwrap(rows.first { $0["node"] as? String == node })
            XCTAssertEqual(row["state"] as? String, state)
            XCTAssertEqual(row["state_source"] as? String, "server")
            XCTAssertEqual(try XCTUnwrap(row["since"] as? Double), now, accuracy: 15, "\(node): since the transition")
            XCTAssertEqual(try XCTUnwrap(row["last_seen"] as? Double), now, accuracy: 15, "\(node): last round received")
        }
        XCTAssertNotNil(document["leader"] as? [String: Any], "the new server leads")
    }
}
