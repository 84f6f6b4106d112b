import SystemdTestKit
import EtcdClient
import EtcdTestSupport
import Foundation
import FleetModel
import MonitorSettings
import XCTest

/// The agent keeps running through an etcd outage and comes back by itself.
final class EtcdOutageTests: DaemonTestCase {
    func testAgentSurvivesAnOutageLongerThanTheTTLAndReRegisters() throws {
        let own = try EtcdCluster()
        defer { own.stop() }
        let notify = try NotifyRecorder()
        let conf = try settingsFile(node: "o1", ttl: 2, endpoints: own.endpoints)
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", conf],
                                      environment: ["NOTIFY_SOCKET": notify.address])
        try agent.waitForLine("registered as node o1")
        own.kill(member: 0)
        let down = Date()
        try agent.waitForLine("etcd unreachable", after: down, timeout: 5)
        try notify.waitFor({ $0.hasPrefix("STATUS=etcd unreachable (") && $0.contains("retrying in") }, after: down)
        Thread.sleep(forTimeInterval: 3) // longer than the TTL: the lease is gone
        let unreachableLines = agent.output.components(separatedBy: "etcd unreachable").count - 1
        XCTAssertLessThanOrEqual(unreachableLines, 3, "logged once per state change, not per retry")
        try own.start(member: 0)
        try own.waitUntilReady(timeout: 10)
        let back = Date()
        let reRegistered = try agent.waitForLine("re-registered as node o1", after: back, timeout: 12)
        print("etcd back -> agent re-registered: \(ms(reRegistered.timeIntervalSince(back)))")
        let client = EtcdClient(endpoints: own.endpoints)
        let kv = try XCTUnwrap(try client.range("\(prefix)/heartbeat/o1").kvs.first)
        XCTAssertNotEqual(kv.lease, 0)
        XCTAssertNil(agent.waitExit(timeout: 0.1))
    }
}
