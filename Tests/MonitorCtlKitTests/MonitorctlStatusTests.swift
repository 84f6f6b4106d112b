import Concurrency
import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
@testable import MonitorCtlKit
import XCTest

/// `monitorctl status` against a real etcd.
final class MonitorctlStatusTests: CtlTestCase {
    let now = Date().timeIntervalSince1970.rounded()


    /// alive (registered), stale, stopped (registry), dead, a lab agent and a node
    /// whose agent rejected its config.
    private func writeMixedFleet() throws -> Lease {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.register("w1", lastStart: now - 600)
        try fleet.heartbeat("w1", agentHeartbeat("w1", ts: now - 2), lease: lease.id)
        try fleet.register("w2", lastStart: now - 900)
        try fleet.register("w3", lastStart: now - 900, stopped: true, stoppedAt: now - 120)
        try fleet.register("w4", lastStart: now - 900)
        try fleet.heartbeat("w4", agentHeartbeat("w4", ts: now - 95), lease: lease.id)
        try fleet.register("w5", lastStart: now - 30)
        try fleet.heartbeat("w5", agentHeartbeat("w5", ts: now - 1, interval: 2, configError: "\"interval\": expected a number"),
                            lease: lease.id)
        try fleet.heartbeat("lab", raw: #"{"status": "alive", "ts": \#(now - 3), "hostname": "lab"}"#, lease: lease.id)
        return lease
    }

    func testTable() throws {
        _ = try writeMixedFleet()
        let result = fleet.run(["status"], now: now)
        XCTAssertEqual(result.code, 2, "w2 is dead (and w4 stale): CRITICAL")
        XCTAssertEqual(result.stderr, "")
        let rows = tableRows(result.stdout)
        XCTAssertEqual(rows.first, StatusReport.header)
        XCTAssertEqual(rows[1], ["lab", "alive", "-", "3s ago", "-", "-", "-", "-", "-"])
        XCTAssertEqual(rows[2], ["w1", "alive", "10m ago", "2s ago", "10s", "12.5%", "43.0% of 16.0 GiB",
                                 "1.2 MiB/s / 512 B/s", "2.0 KiB/s / 100 B/s"])
        XCTAssertEqual(rows[3], ["w2", "dead", "-", "-", "-", "-", "-", "-", "-"])
        XCTAssertEqual(rows[4], ["w3", "stopped", "2m ago", "2m ago", "-", "-", "-", "-", "-"])
        XCTAssertEqual(Array(rows[5].prefix(5)), ["w4", "stale", "65s ago", "95s ago", "10s"])
        XCTAssertEqual(Array(rows[6].prefix(5)), ["w5", "alive*", "30s ago", "1s ago", "2s"])
        XCTAssertTrue(result.stdout.contains("\n\n6 nodes: 3 alive, 1 stale, 1 stopped, 1 dead\n"), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("w5: config error: \"interval\": expected a number\n"), result.stdout)
    }

    func testJSON() throws {
        _ = try writeMixedFleet()
        let result = fleet.run(["status", "-o", "json"], now: now)
        XCTAssertEqual(result.code, 2)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(document.keys), ["time", "summary", "stale_after_rounds", "counts", "nodes", "leader"])
        XCTAssertTrue(document["leader"] is NSNull, "no server leads in this test")
        XCTAssertEqual(document["time"] as? Double, now)
        XCTAssertEqual(document["stale_after_rounds"] as? Int, 3)
        XCTAssertEqual(document["summary"] as? String, "6 nodes: 3 alive, 1 stale, 1 stopped, 1 dead")
        XCTAssertEqual(document["counts"] as? [String: Int], ["alive": 3, "stale": 1, "stopped": 1, "dead": 1])
        let nodes = try XCTUnwrap(document["nodes"] as? [[String: Any]])
        XCTAssertEqual(nodes.map { $0["node"] as? String }, ["lab", "w1", "w2", "w3", "w4", "w5"])
        XCTAssertEqual(nodes.map { $0["state"] as? String }, ["alive", "alive", "dead", "stopped", "stale", "alive"])
        let fields: Set<String> = ["node", "state", "since", "last_seen", "interval", "metrics", "memory_total_bytes",
                                   "memory_available_bytes", "config_error", "value_error", "hostname", "version",
                                   "heartbeat", "registered", "state_source", "clock_skew"]
        for node in nodes { XCTAssertEqual(Set(node.keys), fields, "every field always present") }
        let w1 = nodes[1]
        XCTAssertEqual(w1["since"] as? Double, now - 600)
        XCTAssertEqual(w1["last_seen"] as? Double, now - 2)
        XCTAssertEqual(w1["interval"] as? Double, 10)
        XCTAssertEqual((w1["metrics"] as? [String: Double])?["disk read"], 1_258_291)
        XCTAssertEqual(w1["memory_total_bytes"] as? Int, 16 * 1024 * 1024 * 1024)
        XCTAssertEqual(w1["hostname"] as? String, "w1.lan")
        XCTAssertEqual(w1["version"] as? String, "0.1.0")
        XCTAssertEqual(w1["heartbeat"] as? Bool, true)
        XCTAssertEqual(w1["registered"] as? Bool, true)
        XCTAssertTrue(w1["config_error"] is NSNull)
        let dead = nodes[2]
        XCTAssertTrue(dead["since"] is NSNull)
        XCTAssertTrue(dead["last_seen"] is NSNull)
        XCTAssertEqual(dead["heartbeat"] as? Bool, false)
        XCTAssertEqual(nodes[0]["registered"] as? Bool, false)
        XCTAssertEqual(nodes[5]["config_error"] as? String, "\"interval\": expected a number")
    }

    /// The Nagios plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    func testExitCodesFollowTheNagiosConvention() throws {
        XCTAssertEqual(fleet.run(["status"], now: now).code, 3, "no node at all: cannot know (wrong prefix?)")
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.register("w1", lastStart: now - 60)
        try fleet.heartbeat("w1", agentHeartbeat("w1", ts: now - 1), lease: lease.id)
        XCTAssertEqual(fleet.run(["status"], now: now).code, 0, "every node alive: OK")
        try fleet.register("w2", lastStart: now - 60, stopped: true, stoppedAt: now - 10)
        XCTAssertEqual(fleet.run(["status"], now: now).code, 1, "stopped but still registered: WARNING")
        XCTAssertEqual(fleet.run(["status", "-o", "json"], now: now).code, 1)

        try fleet.client.revoke(lease.id) // the agent's lease expires: w1 is dead
        let result = fleet.run(["status"], now: now)
        XCTAssertEqual(result.code, 2, "a dead node: CRITICAL")
        XCTAssertEqual(tableRows(result.stdout)[1].prefix(2), ["w1", "dead"])
        XCTAssertTrue(result.stdout.contains("2 nodes: 1 stopped, 1 dead"), result.stdout)
    }

    func testUnreadableValuesAreShownNotFatal() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("bad", raw: "not json", lease: lease.id)
        try fleet.client.put(fleet.layout.registry("bad"), "[]")
        let result = fleet.run(["status"], now: now)
        XCTAssertEqual(result.code, 0, "the lease proves it alive")
        XCTAssertEqual(tableRows(result.stdout)[1].prefix(2), ["bad", "alive"])
        XCTAssertTrue(result.stdout.contains("bad: unreadable value: heartbeat: not a JSON object (\"not json\"); registry: not a JSON object"),
                      result.stdout)
    }

    func testEmptyFleetAndStaleThresholdFromSettings() throws {
        let empty = fleet.run(["status"], now: now)
        XCTAssertEqual(empty.code, 3, "no node: UNKNOWN")
        XCTAssertEqual(empty.stdout, "No nodes: nothing under \(fleet.layout.nodesPrefix) or \(fleet.layout.heartbeatPrefix).\n")

        let tolerant = try harness.makeFleet(staleAfterRounds: 20)
        let lease = try tolerant.client.grantLease(ttl: 60)
        try tolerant.heartbeat("slow", agentHeartbeat("slow", ts: now - 95), lease: lease.id)
        XCTAssertEqual(tolerant.run(["status"], now: now).code, 0, "95 s < 20 rounds of 10 s")
        XCTAssertEqual(fleet.run(["status"], now: now).code, 3, "this fleet is still empty")
        try fleet.heartbeat("slow", agentHeartbeat("slow", ts: now - 95), lease: lease.id)
        XCTAssertEqual(fleet.run(["status"], now: now).code, 1, "95 s > 3 rounds of 10 s: stale, WARNING")
    }

    /// Flag over environment over the settings file; etcdctl's `host:port` form.
    func testEndpointsAndConfigFromTheEnvironment() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("e1", agentHeartbeat("e1", ts: now), lease: lease.id)
        let unreachable = "127.0.0.1:\(try EtcdCluster.freePort())"
        let reachable = harness.cluster.endpoints[0].replacingOccurrences(of: "http://", with: "")

        // MONITOR_ENDPOINTS in etcdctl's form overrides the file's (good) endpoints.
        let viaEnv = fleet.run(["status"], now: now, environment: ["MONITOR_ENDPOINTS": unreachable])
        XCTAssertEqual(viaEnv.code, 3)
        XCTAssertTrue(viaEnv.stderr.contains("etcd unreachable at http://\(unreachable)"), viaEnv.stderr)
        // The flag overrides the environment.
        let viaFlag = fleet.run(["status", "--endpoints", reachable], now: now, environment: ["MONITOR_ENDPOINTS": unreachable])
        XCTAssertEqual(viaFlag.code, 0, viaFlag.stderr)
        let bad = fleet.run(["status"], now: now, environment: ["MONITOR_ENDPOINTS": "ftp://x"])
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("monitorctl: MONITOR_ENDPOINTS: "), bad.stderr)

        // MONITOR_CONFIG when there is no --config.
        let output = CapturedOutput()
        let runner = MonitorctlRunner(output: output, environment: ["MONITOR_CONFIG": fleet.configPath], now: { self.now })
        XCTAssertEqual(runner.run(["status"]), 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("e1 "), output.stdout)
        let missing = CapturedOutput()
        XCTAssertEqual(MonitorctlRunner(output: missing, environment: ["MONITOR_CONFIG": "/nonexistent.conf"]).run(["status"]), 78)
    }

    func testErrors() throws {
        let unreachable = "http://127.0.0.1:\(try EtcdCluster.freePort())"
        let down = fleet.run(["status", "--endpoints", unreachable])
        XCTAssertEqual(down.code, 3, "etcd unreachable: UNKNOWN")
        XCTAssertEqual(down.stdout, "")
        XCTAssertTrue(down.stderr.hasPrefix("monitorctl: reading \(fleet.layout.prefix)/: etcd unreachable at \(unreachable) ("),
                      down.stderr)

        let both = fleet.run(["status", "--endpoints", unreachable + "," + unreachable.replacingOccurrences(of: "127.0.0.1", with: "127.0.0.2")])
        XCTAssertEqual(both.code, 3)
        XCTAssertTrue(both.stderr.contains("; tried \(unreachable), "), both.stderr)

        let badEndpoints = fleet.run(["status", "--endpoints", "ftp://etcd:2379"])
        XCTAssertEqual(badEndpoints.code, 2)
        XCTAssertTrue(badEndpoints.stderr.hasPrefix("monitorctl: --endpoints: "), badEndpoints.stderr)
        let etcdctlForm = fleet.run(["status", "--endpoints", "etcd.invalid:2379"])
        XCTAssertTrue(etcdctlForm.stderr.contains("etcd unreachable at http://etcd.invalid:2379"), "host:port is http://host:port")

        let badFormat = fleet.run(["status", "-o", "yaml"])
        XCTAssertEqual(badFormat.code, 2)
        XCTAssertTrue(badFormat.stderr.contains("yaml"), badFormat.stderr)

        let output = CapturedOutput()
        let missing = MonitorctlRunner(output: output).run(["status", "--config", "/nonexistent/monitor.conf"])
        XCTAssertEqual(missing, 78)
        XCTAssertEqual(output.stderr, "monitorctl: /nonexistent/monitor.conf: cannot open: No such file or directory\n")
    }

    /// 1,000 registered nodes with heartbeats: `status -o json` must answer in well
    /// under a second (asserted generously) with exactly two range reads.
    func testThousandNodes() throws {
        let count = 1000
        // XCTest makes every test instance when the run starts, so the instance's
        // `now` can be minutes old here; these heartbeats must be fresh.
        let now = Date().timeIntervalSince1970
        let lease = try fleet.client.grantLease(ttl: 120)
        let setupStart = Date()
        // Four writers: etcd syncs each put, so one writer would take most of the setup time.
        let endpoints = harness.cluster.endpoints
        let layout = fleet.layout
        let firstError = Locked<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            let client = EtcdClient(endpoints: endpoints)
            for i in stride(from: worker, to: count, by: 4) {
                let name = String(format: "node%04d", i)
                do {
                    let record = NodeRecord(node: name, hostname: name, version: "0.1.0", firstStart: now - 7200,
                                            lastStart: now - 3600)
                    try client.put(layout.registry(name), value: record.encoded())
                    try client.put(layout.heartbeat(name), value: agentHeartbeat(name, ts: now - 1).encoded(),
                                   lease: lease.id)
                } catch {
                    firstError.withLock { $0 = $0 ?? error }
                }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        print("1000-node setup: \(count * 2) puts in \(String(format: "%.2f", -setupStart.timeIntervalSinceNow)) s")

        let rangesBefore = try harness.rangeCount()
        let start = Date()
        let result = fleet.run(["status", "-o", "json"])
        let elapsed = -start.timeIntervalSinceNow
        let ranges = try harness.rangeCount() - rangesBefore
        print("monitorctl status -o json for \(count) nodes: \(String(format: "%.3f", elapsed)) s (in-process, \(ranges) range reads)")

        XCTAssertEqual(result.code, 0, result.stderr)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((document["nodes"] as? [Any])?.count, count)
        XCTAssertEqual(document["summary"] as? String, "1000 nodes: 1000 alive")
        XCTAssertEqual(ranges, 1, "one range read of the prefix, no per-node requests")
        XCTAssertLessThan(elapsed, 3, "generous bound; the target is under 1 s")

        let tableStart = Date()
        let table = fleet.run(["status"])
        print("monitorctl status (table) for \(count) nodes: \(String(format: "%.3f", -tableStart.timeIntervalSinceNow)) s")
        XCTAssertEqual(table.code, 0)
        XCTAssertEqual(table.stdout.split(separator: "\n").count, count + 3, "header, rows, summary, source line")

        // Filters apply to the view read: the same one range read, no more time.
        let filterStart = Date()
        let filtered = fleet.run(["status", "-o", "wide", "--state", "alive", "node0500", "node0999"])
        print("monitorctl status -o wide --state alive NODE NODE for \(count) nodes: "
              + "\(String(format: "%.3f", -filterStart.timeIntervalSinceNow)) s")
        XCTAssertEqual(filtered.code, 0, filtered.stderr)
        XCTAssertEqual(tableRows(filtered.stdout).dropFirst().prefix(2).map { $0.first }, ["node0500", "node0999"])
        XCTAssertTrue(filtered.stdout.contains("2 nodes: 2 alive shown of 1000 in the fleet"), filtered.stdout)

        if let binary = MonitorctlBinary.path {
            let start = Date()
            let run = try MonitorctlBinary.run(binary, ["status", "-o", "json", "--config", fleet.configPath])
            print("monitorctl binary status -o json for \(count) nodes: \(String(format: "%.3f", -start.timeIntervalSinceNow)) s")
            XCTAssertEqual(run.code, 0)
            XCTAssertLessThan(-start.timeIntervalSinceNow, 3)
        }
    }
}
