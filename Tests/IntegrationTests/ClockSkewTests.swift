import EtcdClient
import FleetModel
import Foundation
import XCTest

/// Issue 13, part 4: one clock rule. Heartbeats are written by hand with
/// shifted `ts` under real leases, as agents with wrong clocks would.
final class ClockSkewTests: DaemonTestCase {
    /// Writes a round for `node` every `interval` seconds with its clock `skew`
    /// seconds off, until `stop` is set.
    final class SkewedNode: @unchecked Sendable {
        let thread: Thread

        init(node: String, skew: Double, interval: Double, lease: Int64, client: EtcdClient, prefix: String) {
            let box = StopBox()
            thread = Thread {
                var seq: Int64 = 0
                while !box.isStopped {
                    seq += 1
                    var beat = Heartbeat(status: "alive", ts: Date().timeIntervalSince1970 + skew, hostname: node,
                                         interval: interval, node: node)
                    beat.seq = seq
                    _ = try? client.put("\(prefix)/heartbeat/\(node)", value: beat.encoded(), lease: lease)
                    Thread.sleep(forTimeInterval: interval)
                }
            }
            self.box = box
            thread.start()
        }

        private let box: StopBox
        func halt() { box.stop() }
    }

    final class StopBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
        func stop() { lock.lock(); stopped = true; lock.unlock() }
    }

    func testSkewedClocksAreReportedAndChangeNoStateAndAFutureClockHidesNoHang() throws {
        let server = try startServer()
        let lease = try client.grantLease(ttl: 30)
        defer { try? client.revoke(lease.id) }
        var nodes: [SkewedNode] = []
        for (name, skew) in [("ahead", 120.0), ("behind", -120.0), ("hour", 3600.0), ("fine", 0.3)] {
            nodes.append(SkewedNode(node: name, skew: skew, interval: 1, lease: lease.id,
                                    client: EtcdClient(endpoints: endpoints), prefix: prefix))
        }
        defer { nodes.forEach { $0.halt() } }
        try server.waitForLine("node ahead CLOCK_SKEW (clock 120s ahead of the server's)")
        try server.waitForLine("node hour CLOCK_SKEW (clock 3600s ahead of the server's)")
        try server.waitForLine("node behind CLOCK_SKEW (clock 120s behind the server's)", timeout: 8)
        Thread.sleep(forTimeInterval: 4)
        XCTAssertFalse(server.output.contains("node fine CLOCK_SKEW"), server.output)
        XCTAssertFalse(server.output.contains("event=STALE"), "a wrong clock makes no node stale:\n\(server.output)")
        XCTAssertEqual(server.output.components(separatedBy: "event=CLOCK_SKEW").count - 1, 3, "once each:\n\(server.output)")

        // monitorctl agrees with the server: alive, with the skew the server measured.
        let status = try DaemonProcess("monitorctl", arguments: ["status", "-o", "json", "--config", try settingsFile()])
        XCTAssertEqual(status.waitExit(timeout: 10), 0, status.output)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(document["nodes"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["node"] as? String ?? "", $0) })
        XCTAssertEqual(byName["ahead"]?["clock_skew"] as? Double, 120)
        XCTAssertEqual(byName["behind"]?["clock_skew"] as? Double, -120)
        XCTAssertEqual(byName["hour"]?["clock_skew"] as? Double, 3600)
        XCTAssertTrue(byName["fine"]?["clock_skew"] is NSNull)
        for row in rows {
            XCTAssertEqual(row["state"] as? String, "alive", "\(row)")
            XCTAssertEqual(row["state_source"] as? String, "server")
            let lastSeen = try XCTUnwrap(row["last_seen"] as? Double)
            XCTAssertEqual(lastSeen, Date().timeIntervalSince1970, accuracy: 3, "the node's ts brought to the server's clock")
        }

        // The node an hour ahead hangs (its lease lives on): STALE after 3 rounds all the same.
        let hung = Date()
        nodes[2].halt()
        let stale = try server.waitForLine("node hour STALE", after: hung, timeout: 8)
        print("a node 1 h ahead hangs -> STALE after \(ms(stale.timeIntervalSince(hung))) (3 rounds of 1 s)")
    }
}
