import EtcdClient
import FleetModel
import Foundation
import XCTest

/// monitorctl against real agents (issue 3's scenario): status, live retune,
/// config errors in the central view, dead and stopped nodes.
final class MonitorctlEndToEndTests: DaemonTestCase {
    /// Runs the monitorctl binary; returns exit code and stdout+stderr.
    func ctl(_ arguments: [String]) throws -> (code: Int32?, output: String) {
        let p = try DaemonProcess("monitorctl", arguments: arguments + ["--config", try settingsFile()])
        let code = p.waitExit(timeout: 10)
        Thread.sleep(forTimeInterval: 0.05)
        return (code, p.output)
    }

    func statusNodes() throws -> (Int32?, [String: [String: Any]]) {
        let (code, output) = try ctl(["status", "-o", "json"])
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        var nodes: [String: [String: Any]] = [:]
        for n in doc["nodes"] as? [[String: Any]] ?? [] { nodes[n["node"] as? String ?? ""] = n }
        return (code, nodes)
    }

    func testStatusRetuneConfigErrorDeadAndStoppedWithRealAgents() throws {
        let a = try startAgent(node: "ea", ttl: 2), b = try startAgent(node: "eb", ttl: 2)
        try a.waitForLine("registered as node ea")
        try b.waitForLine("registered as node eb")
        try eventually("the first round with figures", timeout: 4) {
            try ["ea", "eb"].allSatisfy { try heartbeat($0).flatMap { try? Heartbeat.parse($0.value) }?.metrics?["net in"] != nil }
        }

        var (code, nodes) = try statusNodes()
        XCTAssertEqual(code, 0)
        for name in ["ea", "eb"] {
            let node = try XCTUnwrap(nodes[name], "\(nodes.keys)")
            XCTAssertEqual(node["state"] as? String, "alive")
            let metrics = try XCTUnwrap(node["metrics"] as? [String: Double])
            XCTAssertTrue((0...100).contains(metrics["cpu"] ?? -1), "cpu \(metrics)")
            XCTAssertTrue((0...100).contains(metrics["memory"] ?? -1), "memory \(metrics)")
            XCTAssertGreaterThanOrEqual(metrics["net in"] ?? -1, 0)
            XCTAssertGreaterThan(node["memory_total_bytes"] as? Double ?? 0, 0)
        }

        // Retune ea live with config set.
        let t0 = Date()
        XCTAssertEqual(try ctl(["config", "set", "ea", "interval=1", "metrics=cpu,memory"]).code, 0)
        try a.waitForLine("interval 10s -> 1s", after: t0)

        // A typo in eb's key shows up in the central view.
        try client.put("\(prefix)/config/eb", #"{"interval": "often"}"#)
        try b.waitForLine("config rejected")
        try eventually("eb's config error published", timeout: 3) {
            try heartbeat("eb").flatMap { try? Heartbeat.parse($0.value) }?.configError != nil
        }
        (code, nodes) = try statusNodes()
        XCTAssertTrue((nodes["eb"]?["config_error"] as? String ?? "").contains("interval"), "\(nodes["eb"] ?? [:])")
        XCTAssertEqual(nodes["ea"]?["interval"] as? Double, 1)

        // eb stops cleanly, ea dies.
        b.signal(SIGTERM)
        XCTAssertEqual(b.waitExit(timeout: 2), 0)
        a.signal(SIGKILL)
        _ = a.waitExit(timeout: 2)
        Thread.sleep(forTimeInterval: 3) // ea's 2 s lease expires
        (code, nodes) = try statusNodes()
        XCTAssertEqual(nodes["eb"]?["state"] as? String, "stopped")
        XCTAssertEqual(nodes["ea"]?["state"] as? String, "dead")
        XCTAssertEqual(code, 2, "a dead node: CRITICAL (Nagios convention, for cron and alerting)")
        let table = try ctl(["status"]).output
        XCTAssertTrue(table.contains("ea") && table.contains("dead"), table)
    }
}
