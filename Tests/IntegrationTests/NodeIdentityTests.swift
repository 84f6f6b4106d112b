import EtcdClient
import FleetModel
import Foundation
import XCTest

/// Issue 13, part 5 and the reload race: one identity per node name.
final class NodeIdentityTests: DaemonTestCase {
    func machineIDFile(_ id: String) throws -> String {
        let path = dir + "/machine-id-\(id.prefix(4))"
        try (id + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startAgent(node: String, machine: String, ttl: Int = 3) throws -> DaemonProcess {
        try DaemonProcess("monitor-agentd", arguments: ["--config", try settingsFile(node: node, ttl: ttl),
                                                        "--machine-id-file", try machineIDFile(machine)])
    }

    /// Cloned VMs share a host name: the second agent does not take the name,
    /// says why, and takes it when the first one is gone.
    func testASecondMachineWithTheSameNameStandsBackUntilTheFirstIsGone() throws {
        let server = try startServer()
        let first = try startAgent(node: "clone", machine: String(repeating: "a", count: 32))
        try server.waitForLine("node clone ALIVE")
        let second = try startAgent(node: "clone", machine: String(repeating: "b", count: 32))
        try second.waitForLine("node name clone is held by machine " + String(repeating: "a", count: 32))
        Thread.sleep(forTimeInterval: 4) // more than a TTL: it asked again and stood back again
        XCTAssertEqual(second.output.components(separatedBy: "event=NAME_CONFLICT").count - 1, 1, "said once:\n\(second.output)")
        let beat = try Heartbeat.parse(try XCTUnwrap(try heartbeat("clone")).value)
        XCTAssertEqual(beat.machineID, String(repeating: "a", count: 32), "the first machine keeps the name")
        XCTAssertFalse(server.output.contains("node clone LEFT") || server.output.contains("node clone DEAD"), server.output)
        XCTAssertEqual(server.output.components(separatedBy: "node clone ALIVE").count - 1, 1, "no flapping:\n\(server.output)")
        // The first one is gone for good: the second takes over within a TTL or so.
        let gone = Date()
        first.signal(SIGKILL)
        let took = try second.waitForLine("registered as node clone", after: gone, timeout: 3 + 3 + 2)
        print("first machine killed -> second takes the name: \(ms(took.timeIntervalSince(gone))) (TTL 3 s, asked every TTL)")
        let now = try Heartbeat.parse(try XCTUnwrap(try heartbeat("clone")).value)
        XCTAssertEqual(now.machineID, String(repeating: "b", count: 32))
        let record = try NodeRecord.parse(try XCTUnwrap(try client.range("\(prefix)/nodes/clone").kvs.first).value)
        XCTAssertEqual(record.machineID, String(repeating: "b", count: 32))
    }

    /// The same machine after a crash and a restart takes its name back at once.
    func testTheSameMachineTakesItsOwnNameOverAtOnce() throws {
        let machine = String(repeating: "c", count: 32)
        let before = try startAgent(node: "again", machine: machine, ttl: 10)
        try before.waitForLine("registered as node again")
        before.signal(SIGKILL)
        let restart = Date()
        let after = try startAgent(node: "again", machine: machine, ttl: 10)
        let registered = try after.waitForLine("registered as node again", after: restart, timeout: 3)
        XCTAssertLessThan(registered.timeIntervalSince(restart), 2, "not a TTL (10 s) later")
        XCTAssertFalse(after.output.contains("NAME_CONFLICT"), after.output)
    }

    /// 100 reloads that re-register, 10 ms apart, once gave 3-16 false DEAD lines.
    func testAHundredReRegisteringReloadsGiveNoDead() throws {
        let server = try startServer()
        let config = try settingsFile(node: "reload", ttl: 3, name: "reload")
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", config])
        try server.waitForLine("node reload ALIVE")
        for i in 0..<100 {
            // A TTL change re-registers the agent.
            _ = try settingsFile(node: "reload", ttl: 3 + i % 2, name: "reload")
            agent.signal(SIGHUP)
            usleep(10_000)
        }
        Thread.sleep(forTimeInterval: 8) // two TTLs after the last one
        XCTAssertFalse(server.output.contains("event=DEAD") || server.output.contains("event=LEFT"), server.output)
        XCTAssertNil(agent.waitExit(timeout: 0))
        XCTAssertNotNil(try heartbeat("reload"), "still registered")
        XCTAssertGreaterThanOrEqual(agent.output.components(separatedBy: "re-registered as node reload").count - 1, 1, agent.output)
    }
}
