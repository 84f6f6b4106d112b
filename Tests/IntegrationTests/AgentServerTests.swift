import EtcdClient
import FleetModel
import Foundation
import SystemdTestKit
import XCTest

/// The spine end to end: real etcd, the real daemons as processes.
final class AgentServerTests: DaemonTestCase {
    func testHeartbeatKeyIsLeasedAndCarriesTheLabFieldsAndInterval() throws {
        let agent = try startAgent(node: "n1")
        try agent.waitForLine("registered as node n1")
        let kv = try XCTUnwrap(try heartbeat("n1"))
        XCTAssertNotEqual(kv.lease, 0, "heartbeat attached to a lease")
        let hb = try Heartbeat.parse(kv.value)
        XCTAssertEqual(hb.status, "alive")
        XCTAssertEqual(hb.interval, 10)
        XCTAssertFalse(hb.hostname.isEmpty)
        XCTAssertGreaterThan(hb.ts, Date().timeIntervalSince1970 - 30)
        // The first round follows within about a second and carries metrics.
        let firstRound = try eventually("a round with metrics", timeout: 3) {
            try heartbeat("n1").flatMap { try? Heartbeat.parse($0.value) }?.metrics?["cpu"] != nil
        }
        XCTAssertLessThan(firstRound, 2.5, "the first round comes about 1 s after start")
        let after = try Heartbeat.parse(try XCTUnwrap(try heartbeat("n1")).value)
        XCTAssertNotNil(after.metrics?["cpu"])
        XCTAssertNotNil(after.metrics?["memory"])
        XCTAssertEqual(try client.keepAlive(kv.lease), 3, "the lease has the configured TTL")
    }

    func testSigtermGivesLeftAtOnceAndExitZero() throws {
        let server = try startServer()
        let agent = try startAgent(node: "n2")
        try server.waitForLine("node n2 ALIVE")
        let t0 = Date()
        agent.signal(SIGTERM)
        let seen = try server.waitForLine("node n2 LEFT", after: t0, timeout: 3)
        let exit = agent.waitExit(timeout: 2)
        print("SIGTERM -> server LEFT: \(ms(seen.timeIntervalSince(t0)))")
        XCTAssertLessThan(seen.timeIntervalSince(t0), 1.0)
        XCTAssertEqual(exit, 0)
        XCTAssertNil(try heartbeat("n2"), "the key went with the lease")
        XCTAssertFalse(server.output.contains("node n2 DEAD"))
    }

    func testKillNineGivesDeadWithinTTLPlusOneSecond() throws {
        let server = try startServer()
        let agent = try startAgent(node: "n3", ttl: 2)
        try server.waitForLine("node n3 ALIVE")
        let t0 = Date()
        agent.signal(SIGKILL)
        let seen = try server.waitForLine("node n3 DEAD", after: t0, timeout: 6)
        print("SIGKILL -> server DEAD: \(ms(seen.timeIntervalSince(t0))) (TTL 2 s)")
        XCTAssertLessThan(seen.timeIntervalSince(t0), 2 + 1)
        XCTAssertFalse(server.output.contains("node n3 LEFT"))
    }

    func testConfigPutIsAppliedLiveAndTheRoundPeriodChanges() throws {
        let agent = try startAgent(node: "n4")
        try agent.waitForLine("registered as node n4")
        try agent.waitForLine("no config at") // initial read done: defaults
        let before = try Heartbeat.parse(try XCTUnwrap(try heartbeat("n4")).value)
        XCTAssertEqual(before.interval, 10)

        let t0 = Date()
        try client.put("\(prefix)/config/n4", #"{"interval": 1, "metrics": ["cpu", "memory"], "comment": "extra fields are ignored"}"#)
        let putReturned = Date()
        let applied = try agent.waitForLine("config applied", after: t0, timeout: 3)
        print("config put returned -> agent logged it applied: \(ms(applied.timeIntervalSince(putReturned)))")
        XCTAssertTrue(agent.output.contains("interval 10s -> 1s"))
        XCTAssertTrue(agent.output.contains("-> [cpu, memory]"))

        // Rounds now come every second: count heartbeat puts over 2.5 s. (The
        // rhythm itself is AgentStateTests'; this counts the etcd writes.)
        let startRev = try client.range("\(prefix)/heartbeat/n4").revision + 1
        Thread.sleep(forTimeInterval: 2.5)
        let kv = try XCTUnwrap(try heartbeat("n4"))
        let hb = try Heartbeat.parse(kv.value)
        XCTAssertEqual(hb.interval, 1)
        XCTAssertEqual(Set(hb.metrics?.keys.map { $0 } ?? []), ["cpu", "memory"])
        let rounds = kv.version - (try versionAt(revision: startRev - 1, key: "\(prefix)/heartbeat/n4"))
        XCTAssertGreaterThanOrEqual(rounds, 2, "about one put per second after the retune")
        XCTAssertLessThanOrEqual(rounds, 4, "still one put per round")
    }

    /// A config value of 100,000 metric names (989 KB; etcd takes it) once cost 31 s
    /// per round and a watchdog kill loop: now it is refused unread, rounds keep
    /// their rhythm, the log line stays short and SIGTERM is honoured at once.
    func testAHugeConfigValueIsRefusedCheaply() throws {
        let notify = try NotifyRecorder()
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", try settingsFile(node: "n9")],
                                      environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "2000000"])
        try agent.waitForLine("registered as node n9")
        try client.put("\(prefix)/config/n9", #"{"interval": 1}"#)
        try agent.waitForLine("interval 10s -> 1s")
        let names = (0..<100_000).map { "\"m\($0)\"" }.joined(separator: ",")
        let t0 = Date()
        try client.put("\(prefix)/config/n9", "{\"metrics\": [\(names)]}")
        try agent.waitForLine("config rejected", after: t0, timeout: 3)
        let seq0 = try Heartbeat.parse(try XCTUnwrap(try heartbeat("n9")).value).seq ?? 0
        try eventually("two more rounds at 1 s", timeout: 4) {
            (try Heartbeat.parse(try XCTUnwrap(try heartbeat("n9")).value).seq ?? 0) >= seq0 + 2
        }
        let pets = notify.all().filter { $0 == "WATCHDOG=1" }.count
        try notify.waitFor({ _ in notify.all().filter { $0 == "WATCHDOG=1" }.count >= pets + 2 }, timeout: 3)
        let rejected = try XCTUnwrap(agent.output.split(separator: "\n").first { $0.contains("config rejected") })
        XCTAssertTrue(rejected.contains("exceeds 64 KiB"), String(rejected))
        XCTAssertLessThan(rejected.utf8.count, 600, "one short line: \(rejected)")
        let stop = Date()
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.waitExit(timeout: 5), 0)
        XCTAssertLessThan(Date().timeIntervalSince(stop), 1.0, "SIGTERM honoured at once")
    }

    /// 200 config puts per second for 10 s once cost a heartbeat put each (4,000
    /// puts), 868 KB of log and every round of the period. Now they coalesce: the
    /// latest value wins, rounds keep their rhythm, one extra put per round at most.
    func testAConfigStormCoalesces() throws {
        let agent = try startAgent(node: "n10")
        try agent.waitForLine("registered as node n10")
        try client.put("\(prefix)/config/n10", #"{"interval": 1}"#)
        try agent.waitForLine("interval 10s -> 1s")
        Thread.sleep(forTimeInterval: 1.2)
        let before = try XCTUnwrap(try heartbeat("n10"))
        let seq0 = try Heartbeat.parse(before.value).seq ?? 0
        let logBefore = agent.output.utf8.count
        let start = Date()
        var puts = 0
        var last = 1.0
        while Date().timeIntervalSince(start) < 10 {
            last = 1 + Double(puts % 9 + 1) / 10
            try client.put("\(prefix)/config/n10", "{\"interval\": \(last)}")
            puts += 1
            usleep(2_000)
        }
        let elapsed = Date().timeIntervalSince(start)
        try eventually("the latest value in force", timeout: 5) {
            try Heartbeat.parse(try XCTUnwrap(try heartbeat("n10")).value).interval == last
        }
        let after = try XCTUnwrap(try heartbeat("n10"))
        let rounds = (try Heartbeat.parse(after.value).seq ?? 0) - seq0
        let heartbeatPuts = after.version - before.version
        let logBytes = agent.output.utf8.count - logBefore
        print("config storm: \(puts) puts in \(String(format: "%.1f", elapsed)) s -> \(rounds) rounds, "
              + "\(heartbeatPuts) heartbeat puts, \(logBytes) bytes of log")
        XCTAssertGreaterThan(puts, 1000, "a storm: hundreds of puts per second")
        XCTAssertGreaterThanOrEqual(rounds, Int64(elapsed / 1.9) - 1, "rounds kept their rhythm (interval 1.1-1.9 s)")
        XCTAssertLessThanOrEqual(heartbeatPuts, 2 * rounds + 3, "one put per round plus at most one extra")
        XCTAssertLessThan(logBytes, 40_000, "a few lines per round, not one per change")
        XCTAssertTrue(agent.output.contains("coalesced; in force"), String(agent.output.suffix(2000)))
    }

    /// Another writer deletes or overwrites a running agent's heartbeat: the agent
    /// notices at once (it watches its key), logs it once and puts it back under
    /// its lease; the server never reports the node LEFT, and DEAD at most briefly.
    func testATamperedHeartbeatIsRestored() throws {
        let server = try startServer()
        let agent = try startAgent(node: "n11")
        try agent.waitForLine("registered as node n11")
        try server.waitForLine("node n11 ALIVE")
        let key = "\(prefix)/heartbeat/n11"
        let lease = try XCTUnwrap(try heartbeat("n11")).lease
        let t0 = Date()
        _ = try client.delete(key)
        let restored = try agent.waitForLine("was deleted by another writer; restored it", after: t0, timeout: 3)
        print("heartbeat deleted -> restored by the agent: \(ms(restored.timeIntervalSince(t0)))")
        try eventually("the key is back under the agent's lease") { try heartbeat("n11")?.lease == lease }
        _ = try client.put(key, #"{"status":"stopping","ts":1,"hostname":"forged"}"#)
        try eventually("restored again under the lease", timeout: 3) {
            guard let kv = try heartbeat("n11") else { return false }
            return kv.lease == lease && (try? Heartbeat.parse(kv.value))?.hostname != "forged"
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(agent.output.components(separatedBy: "by another writer").count - 1, 1, "logged once per episode")
        XCTAssertFalse(server.output.contains("node n11 LEFT"), server.output)
        XCTAssertFalse(server.output.contains("node n11 DEAD"), "no false DEAD for a delete or an overwrite:\n\(server.output)")
        try server.waitForLine("node n11: its heartbeat key was deleted by another writer while its lease was alive")
    }

    func testMalformedConfigKeepsTheLastGoodOneAndIsReported() throws {
        let agent = try startAgent(node: "n5")
        try agent.waitForLine("registered as node n5")
        try client.put("\(prefix)/config/n5", #"{"interval": 2}"#)
        try agent.waitForLine("interval 10s -> 2s")
        // Each rejection is logged: in its own line, or, past the first three
        // changes of a round, in the round's coalesced line (which names the error
        // in force). Waiting for each keeps them apart.
        let cases = [(#"{"interval": 2"#, "not valid JSON"), (#"{"interval": "fast"}"#, #"got "fast""#),
                     (#"{"interval": 0}"#, "got 0"), (#"{"interval": 100000}"#, "got 100000"),
                     (#"{"metrics": "cpu"}"#, #"got "cpu""#), (#"[1,2]"#, "expected a JSON object"),
                     (#"{"interval": true}"#, "got true")]
        for (bad, error) in cases {
            let t0 = Date()
            try client.put("\(prefix)/config/n5", bad)
            try agent.waitForLine(error, after: t0, timeout: 4)
        }
        XCTAssertTrue(agent.output.contains(#""interval": expected a number of seconds from 1 to 86400, got "fast""#))
        XCTAssertNil(agent.waitExit(timeout: 0.1), "the agent keeps running")
        // The error is published at once (an extra put); the good config stays in force.
        try eventually("config_error in the heartbeat", timeout: 3) {
            try heartbeat("n5").flatMap { try? Heartbeat.parse($0.value) }?.configError != nil
        }
        var hb = try Heartbeat.parse(try XCTUnwrap(try heartbeat("n5")).value)
        XCTAssertEqual(hb.interval, 2)
        XCTAssertNotNil(hb.configError)
        // A good value clears it.
        let t1 = Date()
        try client.put("\(prefix)/config/n5", #"{"interval": 1}"#)
        try agent.waitForLine("interval 2s -> 1s", after: t1)
        try eventually("config_error cleared", timeout: 3) {
            try heartbeat("n5").flatMap { try? Heartbeat.parse($0.value) }?.configError == nil
        }
        hb = try Heartbeat.parse(try XCTUnwrap(try heartbeat("n5")).value)
        XCTAssertEqual(hb.interval, 1)
    }

    func testServerAcceptsTheLabsBareHeartbeat() throws {
        let server = try startServer()
        let lease = try client.grantLease(ttl: 2)
        try client.put("\(prefix)/heartbeat/lab1", #"{"status": "alive", "ts": 1700000000.5, "hostname": "lab1"}"#, lease: lease.id)
        try server.waitForLine("node lab1 ALIVE")
        try client.put("\(prefix)/heartbeat/junk", "not json at all", lease: lease.id)
        try server.waitForLine("node junk ALIVE")
        try server.waitForLine("event=BAD_VALUE")
        try client.revoke(lease.id)
        try server.waitForLine("node lab1 DEAD")
        XCTAssertNil(server.waitExit(timeout: 0.1), "bad data never stops the server")
    }

    func testServerStartedAfterTheNodesSeesThemAndOneLinePerTransition() throws {
        let agent = try startAgent(node: "n6")
        try agent.waitForLine("registered as node n6")
        let server = try startServer()
        try server.waitForLine("node n6 ALIVE (first seen)")
        try client.put("\(prefix)/config/n6", #"{"interval": 1}"#)
        Thread.sleep(forTimeInterval: 2.5)
        XCTAssertEqual(server.output.components(separatedBy: "node n6 ALIVE").count - 1, 1,
                       "heartbeat puts are not transitions")
    }

    /// Version of `key` at `revision` (0 if it did not exist then).
    private func versionAt(revision: Int64, key: String) throws -> Int64 {
        let result = try client.range(key, prefix: false, revision: revision)
        return result.kvs.first?.version ?? 0
    }
}
