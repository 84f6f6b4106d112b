import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
@testable import MonitorCtlKit
import XCTest

/// The config commands that protect the operator: refusals of unknown nodes and
/// wildcard words, `--force`, `config list`, `config delete`, `metrics=` as reset.
final class MonitorctlConfigSafetyTests: CtlTestCase {
    let now = Date().timeIntervalSince1970

    override func setUpWithError() throws {
        try super.setUpWithError()
        try fleet.register("alpha", lastStart: now - 60)
    }

    func testSetAndEditRefuseANodeThatNeverRegistered() throws {
        let refused = fleet.run(["config", "set", "alpah", "interval=3"])
        XCTAssertEqual(refused.code, 1)
        XCTAssertEqual(refused.stderr, "monitorctl: node 'alpah' has never registered (no \(fleet.layout.registry("alpah")), "
                       + "no heartbeat); did you mean 'alpha'?; use --force to configure it before its first start\n")
        XCTAssertNil(try fleet.value(fleet.layout.config("alpah")), "nothing written")
        let edit = fleet.run(["config", "edit", "alpah"], environment: ["EDITOR": "true"])
        XCTAssertEqual(edit.code, 1)
        XCTAssertTrue(edit.stderr.contains("node 'alpah' has never registered"), edit.stderr)

        // Pre-provisioning: --force writes it, with a note.
        let forced = fleet.run(["config", "set", "newnode", "interval=3", "--force"])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        XCTAssertEqual(try fleet.value(fleet.layout.config("newnode")), #"{"interval":3}"#)
        XCTAssertTrue(forced.stderr.contains("note: node newnode has not registered yet"), forced.stderr)

        // A lab agent (heartbeat only) and a node known by its recorded state are known.
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.heartbeat("lab", raw: #"{"status": "alive", "ts": \#(now), "hostname": "lab"}"#, lease: lease.id)
        XCTAssertEqual(fleet.run(["config", "set", "lab", "interval=4"]).code, 0)
        XCTAssertEqual(fleet.run(["config", "set", "alpha", "interval=4"]).code, 0)
        XCTAssertEqual(fleet.run(["config", "set", "default", "interval=4"]).code, 0)
    }

    func testWildcardWordsAreRefusedEvenWithForce() throws {
        for word in ["all", "any", "every", "none"] {
            for force in [[], ["--force"]] {
                let result = fleet.run(["config", "set", word, "interval=3"] + force)
                XCTAssertEqual(result.code, 1, "\(word) \(force)")
                XCTAssertTrue(result.stderr.contains("'\(word)' is not a node and not a wildcard"), result.stderr)
                XCTAssertTrue(result.stderr.contains("use 'default'"), result.stderr)
            }
            XCTAssertNil(try fleet.value(fleet.layout.config(word)))
        }
        // A node that really is called "all" may be configured.
        try fleet.register("all", lastStart: now)
        XCTAssertEqual(fleet.run(["config", "set", "all", "interval=3"]).code, 0)
    }

    func testEmptyValueResetsTheField() throws {
        let key = fleet.layout.config("alpha")
        try fleet.client.put(key, #"{"interval": 2, "metrics": ["cpu"], "owner": "ops"}"#)
        try fleet.client.put(fleet.layout.defaultConfig, #"{"metrics": ["memory"]}"#)
        let result = fleet.run(["config", "set", "alpha", "metrics="])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(try fleet.object(key), ["interval": 2, "owner": "ops"])
        XCTAssertTrue(result.stdout.contains("alpha: interval 2s (unchanged), metrics [cpu] -> [memory]"), result.stdout)
        XCTAssertTrue(fleet.run(["config", "set", "alpha", "metrics="]).stdout.contains("unchanged"), "already reset")
    }

    func testList() throws {
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.register("beta", lastStart: now - 60)
        try fleet.heartbeat("beta", agentHeartbeat("beta", ts: now, configError: "\"interval\": expected a number"), lease: lease.id)
        try fleet.client.put(fleet.layout.config("alpha"), #"{"interval": 2, "metrics": ["cpu", "net"]}"#)
        try fleet.client.put(fleet.layout.config("beta"), #"{"interval": 0}"#)
        try fleet.client.put(fleet.layout.config("alpah"), #"{"interval": 5}"#)
        var result = fleet.run(["config", "list"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(tableRows(result.stdout), [
            ["NODE", "SOURCE", "INTERVAL", "METRICS", "ERROR"],
            ["default", "built-in", "10s", "all", "-"],
            ["alpah", "node", "5s", "all", "node never registered; did you mean 'alpha'?"],
            ["alpha", "node", "2s", "cpu,net", "-"],
            ["beta", "node", "10s", "all", "invalid, ignored by agents: \"interval\": expected a number of seconds from 1 to 86400, got 0; "
                + "agent reports: \"interval\": expected a number"],
        ])
        try fleet.client.put(fleet.layout.defaultConfig, #"{"interval": 30}"#)
        try fleet.register("gamma", lastStart: now - 60)
        result = fleet.run(["config", "list", "--no-headers"])
        XCTAssertEqual(tableRows(result.stdout).first, ["default", "default", "30s", "all", "-"])
        XCTAssertEqual(tableRows(result.stdout).last, ["gamma", "default", "30s", "all", "-"], "uses the default key")
    }

    func testDelete() throws {
        let key = fleet.layout.config("alpha")
        try fleet.client.put(fleet.layout.defaultConfig, #"{"interval": 30}"#)
        let revision = try fleet.client.put(key, #"{"interval": 2}"#)
        var result = fleet.run(["config", "delete", "alpha"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertEqual(result.stdout, """
            deleted \(key) (mod revision \(revision)): {"interval": 2}
            alpha now falls back to \(fleet.layout.defaultConfig): interval 2s -> 30s, metrics \(AgentConfig.default.metricsList) (unchanged)

            """)
        XCTAssertNil(try fleet.value(key))

        result = fleet.run(["config", "delete", "alpah"])
        XCTAssertEqual(result.code, 1)
        XCTAssertEqual(result.stderr, "monitorctl: no config key \(fleet.layout.config("alpah")) to delete\n")
        try fleet.client.put(fleet.layout.config("alpah"), #"{"interval": 5}"#)
        XCTAssertTrue(fleet.run(["config", "delete", "alhpa"]).stderr.contains("did you mean 'alpah'?"))
        XCTAssertEqual(fleet.run(["config", "delete", "alpah"]).code, 0, "a stray key of a node that never registered")

        result = fleet.run(["config", "delete", "default"])
        XCTAssertEqual(result.code, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasSuffix("nodes without their own key now fall back to the built-in defaults: interval 30s -> 10s, "
                                              + "metrics \(AgentConfig.default.metricsList) (unchanged)\n"), result.stdout)
        XCTAssertNil(try fleet.value(fleet.layout.defaultConfig))
    }

    /// Compare-and-swap: a change made between the read and the delete survives.
    func testDeleteKeepsAConcurrentChange() throws {
        let key = fleet.layout.config("alpha")
        let revision = try fleet.client.put(key, #"{"interval": 2}"#)
        let result = fleet.run(["config", "delete", "alpha"], beforeWrite: { _ in
            _ = try? self.fleet.client.put(key, #"{"interval": 7}"#)
        })
        XCTAssertEqual(result.code, 1)
        XCTAssertTrue(result.stderr.hasPrefix("monitorctl: \(key) changed since it was read (mod revision \(revision) -> "),
                      result.stderr)
        XCTAssertEqual(try fleet.value(key), #"{"interval": 7}"#)
    }
}
