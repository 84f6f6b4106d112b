import EtcdClient
import EtcdTestSupport
import Foundation
@testable import MonitorCtlKit
import XCTest

/// `monitorctl endpoints` against a 3-member etcd, before and after its leader is killed.
final class MonitorctlEndpointsTests: XCTestCase {
    func testLeaderKilled() throws {
        guard EtcdCluster.isAvailable else { throw XCTSkip("etcd not available at \(EtcdCluster.binary)") }
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        let harness = try CtlHarness(cluster: cluster)
        defer { harness.stop() }
        let fleet = try harness.makeFleet()

        let start = Date()
        let before = fleet.run(["endpoints", "--health"])
        print("monitorctl endpoints --health, 3 members: \(String(format: "%.3f", -start.timeIntervalSinceNow)) s")
        XCTAssertEqual(before.code, 0, before.stdout + before.stderr)
        var rows = tableRows(before.stdout)
        XCTAssertEqual(rows[0], EndpointsCommand.header + ["READ"])
        XCTAssertEqual(rows[1...3].map { $0[0] }, cluster.endpoints)
        XCTAssertEqual(rows[1...3].filter { $0[4] == "true" }.count, 1, "one leader: \(before.stdout)")
        for row in rows[1...3] {
            XCTAssertNotNil(UInt64(row[1], radix: 16), "member ID in hex, as etcdctl prints it: \(row)")
            XCTAssertTrue(row[2].hasPrefix("3."), "version: \(row)")
            XCTAssertEqual(row[7], "-", "no errors")
            XCTAssertTrue(row[8].hasSuffix(" ms"), "read round trip: \(row)")
        }
        let leader = try cluster.leaderIndex()
        XCTAssertEqual(rows[leader + 1][4], "true")

        cluster.kill(member: leader)
        // A new leader within a few election timeouts (500 ms here).
        var after = fleet.run(["endpoints"])
        let deadline = Date().addingTimeInterval(10)
        while tableRows(after.stdout).dropFirst().filter({ $0.count > 4 && $0[4] == "true" }).isEmpty && Date() < deadline {
            usleep(200_000)
            after = fleet.run(["endpoints"])
        }
        XCTAssertEqual(after.code, 2, "a member is down: \(after.stdout)")
        rows = tableRows(after.stdout)
        XCTAssertTrue(rows[leader + 1][7].contains("etcd unreachable at \(cluster.endpoints[leader])"), "\(rows[leader + 1])")
        let leaders = rows[1...3].filter { $0.count > 4 && $0[4] == "true" }
        XCTAssertEqual(leaders.count, 1, after.stdout)
        XCTAssertNotEqual(leaders.first?[0], cluster.endpoints[leader], "the leader column moved")
        XCTAssertTrue(after.stdout.contains("; 1 of 3 endpoints down"), after.stdout)

        let json = fleet.run(["endpoints", "-o", "json"])
        XCTAssertEqual(json.code, 2)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(document["healthy"] as? Bool, false)
        XCTAssertNotNil(document["leader"] as? String)

        // Two of three down: no quorum, no leader.
        let second = (0..<3).first { $0 != leader }!
        cluster.kill(member: second)
        usleep(1_500_000)
        let noQuorum = fleet.run(["endpoints", "--health"])
        XCTAssertEqual(noQuorum.code, 2)
        XCTAssertTrue(noQuorum.stdout.contains("NO LEADER"), noQuorum.stdout)
    }
}
