import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
@testable import MonitorCtlKit
import XCTest

/// The command line as etcdctl and kubectl users type it: connection options
/// anywhere, filters, output formats and suggestions.
final class MonitorctlCLITests: CtlTestCase {
    let now = Date().timeIntervalSince1970.rounded()

    /// alpha alive (own config key), beta dead, gamma stopped: a small mixed fleet.
    private func writeFleet() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.register("alpha", lastStart: now - 600)
        try fleet.heartbeat("alpha", agentHeartbeat("alpha", ts: now - 1), lease: lease.id)
        try fleet.register("beta", lastStart: now - 600)
        try fleet.register("gamma", lastStart: now - 600, stopped: true, stoppedAt: now - 60)
        try fleet.client.put(fleet.layout.config("alpha"), #"{"interval": 2}"#)
    }

    /// Runs monitorctl without the harness's trailing `--config`: the caller places it.
    private func runRaw(_ arguments: [String], environment: [String: String] = [:]) -> Fleet.Result {
        let output = CapturedOutput()
        let code = MonitorctlRunner(output: output, environment: environment, now: { self.now }).run(arguments)
        return Fleet.Result(code: code, stdout: output.stdout, stderr: output.stderr)
    }

    func testConnectionOptionsAnywhereOnTheLine() throws {
        try writeFleet()
        let config = fleet.configPath
        let endpoint = harness.cluster.endpoints[0].replacingOccurrences(of: "http://", with: "")
        let unreachable = "127.0.0.1:\(try EtcdCluster.freePort())"
        let lines: [[String]] = [
            ["--config", config, "status"],
            ["--config=\(config)", "status"],
            ["status", "--config", config],
            ["--config", config, "status", "-o", "json"],
            ["--endpoints", endpoint, "--config", config, "status"],
            ["--config", config, "config", "get", "alpha"],
            ["config", "--config", config, "get", "alpha"],
            ["config", "get", "--config", config, "alpha"],
            ["--config", config, "config", "list"],
            ["node", "--config", config, "forget", "--help"],
            ["--config", config, "endpoints"],
        ]
        for line in lines {
            let result = runRaw(line)
            XCTAssertTrue([0, 2].contains(result.code), "\(line): \(result.code) \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Unknown option"), "\(line): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("etcd unreachable"), "\(line): \(result.stderr)")
        }
        // The flag wins over the settings file wherever it stands.
        for line in [["--endpoints", unreachable, "--config", config, "status"], ["--config", config, "status", "--endpoints", unreachable],
                     ["config", "--endpoints", unreachable, "get", "alpha", "--config", config]] {
            let result = runRaw(line)
            XCTAssertTrue(result.stderr.contains("etcd unreachable at http://\(unreachable)"), "\(line): \(result.stderr)")
        }
        // The root's flag over the environment, and the environment over the file.
        let viaEnv = runRaw(["--config", config, "status"], environment: ["MONITOR_ENDPOINTS": unreachable])
        XCTAssertEqual(viaEnv.code, 3, viaEnv.stderr)
        let flagOverEnv = runRaw(["--endpoints", endpoint, "status"],
                                 environment: ["MONITOR_ENDPOINTS": unreachable, "MONITOR_CONFIG": config])
        XCTAssertEqual(flagOverEnv.code, 2, "beta is dead: CRITICAL, read through the flag's endpoint: \(flagOverEnv.stderr)")
        let configFromEnv = runRaw(["config", "list"], environment: ["MONITOR_CONFIG": config])
        XCTAssertEqual(configFromEnv.code, 0, configFromEnv.stderr)
    }

    func testUnknownCommandsAreSuggested() throws {
        let typo = runRaw(["--config", fleet.configPath, "stauts"])
        XCTAssertEqual(typo.code, 2)
        XCTAssertTrue(typo.stderr.hasPrefix("Error: unknown command 'stauts' for 'monitorctl'; did you mean 'status'?"), typo.stderr)
        let nested = fleet.run(["config", "delte", "alpha"])
        XCTAssertEqual(nested.code, 2)
        XCTAssertTrue(nested.stderr.contains("did you mean 'delete'?"), nested.stderr)
    }

    func testStatusFilters() throws {
        try writeFleet()
        let only = fleet.run(["status", "alpha"], now: now)
        XCTAssertEqual(only.code, 0, "alpha alone is alive: OK, although beta is dead")
        XCTAssertEqual(tableRows(only.stdout).dropFirst().first?.first, "alpha")
        XCTAssertTrue(only.stdout.contains("\n1 node: 1 alive shown of 3 in the fleet\n"), only.stdout)

        let dead = fleet.run(["status", "--state", "dead,stale"], now: now)
        XCTAssertEqual(dead.code, 2, "computed on the nodes shown: beta dead")
        XCTAssertEqual(tableRows(dead.stdout)[1].prefix(2), ["beta", "dead"])
        XCTAssertEqual(tableRows(dead.stdout).filter { $0.count > 2 }.count, 2, "header and beta")

        let repeated = fleet.run(["status", "--state", "alive", "--state", "stopped", "-o", "json"], now: now)
        XCTAssertEqual(repeated.code, 1, "gamma stopped but registered: WARNING")
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(repeated.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((document["nodes"] as? [[String: Any]])?.map { $0["node"] as? String }, ["alpha", "gamma"])
        XCTAssertEqual(document["counts"] as? [String: Int], ["alive": 1, "stale": 0, "stopped": 1, "dead": 0])

        let none = fleet.run(["status", "--state", "stale"], now: now)
        XCTAssertEqual(none.code, 0, "nothing stale: OK")
        XCTAssertEqual(none.stdout, "No node matches (3 nodes: 1 alive, 1 stopped, 1 dead).\n")

        let unknown = fleet.run(["status", "alpah"], now: now)
        XCTAssertEqual(unknown.code, 3, "UNKNOWN: nothing can be said of a node that does not exist")
        XCTAssertEqual(unknown.stdout, "")
        XCTAssertEqual(unknown.stderr, "monitorctl: unknown node 'alpah': no registry entry, heartbeat or recorded state; did you mean 'alpha'?\n")

        let badState = fleet.run(["status", "--state", "deda"], now: now)
        XCTAssertEqual(badState.code, 2)
        XCTAssertTrue(badState.stderr.contains("--state deda: expected a list of alive, stale, stopped, dead; did you mean 'dead'?"),
                      badState.stderr)
        XCTAssertEqual(fleet.run(["status", "a/b"]).code, 2, "not a node name")
    }

    func testStatusWideAndNoHeaders() throws {
        try writeFleet()
        try fleet.register("alpha", lastStart: now - 600, machineID: "4f0c9a1be2d34c5f8a6b7c8d9e0f1a2b",
                           bootID: "9a7d3e21f00b4c6d8e9fa0b1c2d3e4f5")
        let wide = fleet.run(["status", "-o", "wide"], now: now)
        let rows = tableRows(wide.stdout)
        XCTAssertEqual(rows[0], StatusReport.header + ["HOSTNAME", "VERSION", "MACHINE", "BOOT", "CONFIG"])
        XCTAssertEqual(Array(rows[1].suffix(5)), ["alpha.lan", "0.1.0", "4f0c9a1be2d3", "9a7d3e21", "node"])
        XCTAssertEqual(Array(rows[2].suffix(5)), ["beta.lan", "0.1.0", "-", "-", "built-in"])
        try fleet.client.put(fleet.layout.defaultConfig, #"{"interval": 30}"#)
        XCTAssertEqual(tableRows(fleet.run(["status", "-o", "wide", "beta"], now: now).stdout)[1].last, "default")

        let bare = fleet.run(["status", "--no-headers"], now: now)
        XCTAssertEqual(bare.code, 2)
        XCTAssertEqual(tableRows(bare.stdout).map { $0.first }, ["alpha", "beta", "gamma"], "rows only: \(bare.stdout)")
        XCTAssertEqual(tableRows(fleet.run(["status", "--no-headers", "-o", "wide", "--state", "dead"], now: now).stdout).map(\.count), [14])
    }

    /// Every `-o json` output parses and has the documented keys.
    func testEveryJSONOutputHasTheDocumentedKeys() throws {
        try writeFleet()
        func document(_ arguments: [String]) throws -> [String: Any] {
            let result = fleet.run(arguments, now: now)
            XCTAssertFalse(result.stdout.hasPrefix("#"), "no comment lines: \(arguments)")
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                 "\(arguments): \(result.stdout) \(result.stderr)")
        }
        let keyFields: Set<String> = ["key", "exists", "mod_revision", "value", "text", "error", "unknown_metrics"]
        let get = try document(["config", "get", "alpha", "-o", "json"])
        XCTAssertEqual(Set(get.keys), ["node", "key", "default", "effective"])
        XCTAssertEqual(Set(try XCTUnwrap(get["key"] as? [String: Any]).keys), keyFields)
        XCTAssertEqual(Set(try XCTUnwrap(get["default"] as? [String: Any]).keys), keyFields)
        XCTAssertEqual(get["effective"] as? NSDictionary, ["interval": 2, "metrics": AgentConfig.default.metrics])
        XCTAssertEqual((get["key"] as? [String: Any])?["value"] as? NSDictionary, ["interval": 2])
        let getDefault = try document(["config", "get", "default", "-o", "json"])
        XCTAssertTrue(getDefault["default"] is NSNull)
        XCTAssertEqual((getDefault["key"] as? [String: Any])?["exists"] as? Bool, false)

        let list = try document(["config", "list", "-o", "json"])
        let rows = try XCTUnwrap(list["nodes"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["node"] as? String }, ["default", "alpha", "beta", "gamma"])
        for row in rows {
            XCTAssertEqual(Set(row.keys), ["node", "source", "key", "mod_revision", "interval", "metrics", "error", "registered"])
        }
        XCTAssertEqual(rows.map { $0["source"] as? String }, ["built-in", "node", "built-in", "built-in"])

        let endpoints = try document(["endpoints", "-o", "json", "--health"])
        XCTAssertEqual(Set(endpoints.keys), ["endpoints", "leader", "healthy"])
        for endpoint in try XCTUnwrap(endpoints["endpoints"] as? [[String: Any]]) {
            XCTAssertEqual(Set(endpoint.keys), ["endpoint", "reachable", "member_id", "version", "db_size", "db_size_in_use",
                                                "is_leader", "leader", "raft_term", "raft_index", "raft_applied_index",
                                                "errors", "read_seconds", "read_error"])
            XCTAssertNotNil(endpoint["read_seconds"] as? Double)
        }
        XCTAssertEqual(endpoints["healthy"] as? Bool, true)

        let status = try document(["status", "-o", "json"])
        XCTAssertEqual(Set(status.keys), ["time", "summary", "stale_after_rounds", "counts", "nodes", "leader"])

        let line = WatchCommand.jsonLine(.init(node: "alpha", event: .dead, detail: "lease expired", state: .dead), time: 1.5)
        XCTAssertTrue(line.hasSuffix("}\n") && !line.dropLast().contains("\n"), "one line: \(line)")
        let event = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary)
        XCTAssertEqual(event, ["time": 1.5, "node": "alpha", "event": "DEAD", "state": "dead", "detail": "lease expired"])
    }
}
