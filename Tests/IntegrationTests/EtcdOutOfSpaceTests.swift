import EtcdClient
import FleetModel
import Foundation
import SystemdTestKit
import XCTest

/// etcd out of space (the NOSPACE alarm) is named, not misread: the agent says
/// once that its writes are refused, STATUS says so, and the recovery after
/// compaction, defragmentation and disarming is logged. Own class: its etcd has
/// a 16 MiB quota that the test fills.
final class EtcdOutOfSpaceTests: DaemonTestCase {
    override class var etcdArguments: [String] { ["--quota-backend-bytes", "\(16 << 20)"] }

    func testAFullEtcdIsNamedAndItsRecoveryLoggedByAgentAndServer() throws {
        let server = try startServer()
        // A node whose rounds really stop: it must still be reported once etcd recovers.
        let silentLease = try client.grantLease(ttl: 120)
        try client.put("\(prefix)/heartbeat/silent", value: Heartbeat(ts: Date().timeIntervalSince1970, hostname: "silent",
                                                                       interval: 1, seq: 1).encoded(), lease: silentLease.id)
        try server.waitForLine("node silent ALIVE")
        let notify = try NotifyRecorder()
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", try settingsFile(node: "full")],
                                      environment: ["NOTIFY_SOCKET": notify.address])
        try agent.waitForLine("registered as node full")
        try client.put("\(prefix)/config/full", #"{"interval": 1}"#)
        try agent.waitForLine("interval 10s -> 1s")

        // Fill the database: 1 MiB values until etcd raises the alarm.
        let blob = [UInt8](repeating: 0x61, count: 1 << 20)
        var filled = 0
        fill: while filled < 64 {
            do {
                _ = try client.put("\(prefix)/filler/\(filled)", value: blob)
                filled += 1
            } catch let error as EtcdError where error.isNoSpace {
                break fill
            }
        }
        XCTAssertLessThan(filled, 64, "etcd raised NOSPACE")
        let refused = try agent.waitForLine("etcd refuses writes", timeout: 5)
        Thread.sleep(forTimeInterval: 2.5)
        XCTAssertEqual(agent.output.components(separatedBy: "etcd refuses writes").count - 1, 1, "said once")
        XCTAssertTrue(agent.output.contains("out of space (NOSPACE alarm"), agent.output)
        XCTAssertNil(agent.waitExit(timeout: 0.1), "the agent keeps running")
        // The server: rounds stop for every node at once; it names the cause instead of STALE.
        let full = try server.waitForLine("etcd is out of space (NOSPACE alarm)", timeout: 8)
        Thread.sleep(forTimeInterval: 3.5)
        XCTAssertFalse(server.output.contains("event=STALE"), server.output)
        XCTAssertEqual(server.output.components(separatedBy: "event=ETCD_NOSPACE").count - 1, 1, "said once")
        try notify.waitFor { $0.hasPrefix("STATUS=") && $0.contains("etcd out of space (NOSPACE alarm): heartbeat not updated") }

        // What an operator does: delete, compact, defragment, disarm.
        _ = try client.delete("\(prefix)/filler/", prefix: true)
        try client.compact(revision: try client.range("\(prefix)/marker").revision)
        try Self.etcdctl(["defrag"], endpoints: endpoints)
        try Self.etcdctl(["alarm", "disarm"], endpoints: endpoints)
        let resumed = try agent.waitForLine("etcd accepts writes again", after: refused, timeout: 5)
        XCTAssertGreaterThan(resumed, refused)
        let beat = try Heartbeat.parse(try XCTUnwrap(try heartbeat("full")).value)
        XCTAssertGreaterThan(beat.ts, Date().timeIntervalSince1970 - 3, "the heartbeat is current again")
        try notify.waitFor({ $0.hasPrefix("STATUS=lease ") && !$0.contains("out of space") }, after: refused)
        try server.waitForLine("etcd accepts writes again", after: full, timeout: 8)
        // The agent's rounds resumed: no line for it. The silent node: STALE a period later.
        try server.waitForLine("node silent STALE", after: full, timeout: 8)
        XCTAssertFalse(server.output.contains("node full STALE"), server.output)
        XCTAssertFalse(server.output.contains("node full ALIVE (rounds resumed)"), server.output)
    }

    private static func etcdctl(_ arguments: [String], endpoints: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/etcdctl")
        process.arguments = ["--endpoints", endpoints.joined(separator: ",")] + arguments
        process.environment = ["ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("etcdctl \(arguments.joined(separator: " ")) failed") }
    }
}
