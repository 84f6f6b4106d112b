import EtcdClient
import Foundation
import XCTest

/// monitor-serverd keeps etcd's history bounded (every heartbeat put adds about
/// 512 bytes until compacted): every HistoryRetentionSec it compacts to the
/// revision it saw one period earlier. Own class: compaction is cluster-wide.
final class HistoryCompactionTests: DaemonTestCase {
    private func startServer(retention: Int) throws -> DaemonProcess {
        let config = try settingsFile(extra: "[Server]\nHistoryRetentionSec=\(retention)\n[Log]\nLevel=debug")
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", config])
        try server.waitForLine("watching from")
        return server
    }

    func testTheServerCompactsHistoryOlderThanTheRetention() throws {
        let server = try startServer(retention: 1)
        defer { server.signal(SIGTERM); _ = server.waitExit(timeout: 5) }
        let old = try client.put("\(prefix)/heartbeat/x", "{\"status\":\"alive\",\"ts\":1}")
        XCTAssertNoThrow(try client.range("\(prefix)/heartbeat/x", revision: old), "not compacted yet")
        // Keep writing: the server sees new revisions, so each tick has one to record.
        let waited = try eventually("history before revision \(old) compacted", timeout: 8) {
            _ = try client.put("\(prefix)/other", "\(Date().timeIntervalSince1970)")
            do {
                _ = try client.range("\(prefix)/heartbeat/x", revision: old)
                return false
            } catch EtcdError.compacted {
                return true
            }
        }
        // Recorded at the first tick (1 s), compacted at the second (2 s).
        XCTAssertGreaterThan(waited, 0.9)
        try server.waitForLine("compacted etcd's history to revision", timeout: 3)
        XCTAssertFalse(server.output.contains("COMPACTION_FAILED"), server.output)
    }

    func testZeroLeavesTheHistoryAlone() throws {
        let server = try startServer(retention: 0)
        defer { server.signal(SIGTERM); _ = server.waitExit(timeout: 5) }
        let old = try client.put("\(prefix)/heartbeat/y", "{\"status\":\"alive\",\"ts\":1}")
        for _ in 0..<10 {
            _ = try client.put("\(prefix)/other", "x")
            usleep(250_000)
        }
        XCTAssertNoThrow(try client.range("\(prefix)/heartbeat/y", revision: old))
        XCTAssertFalse(server.output.contains("compacted"), server.output)
    }
}
