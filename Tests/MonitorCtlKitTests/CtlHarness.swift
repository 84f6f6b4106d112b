import Concurrency
import EtcdClient
import EtcdTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import FleetModel
import MonitorSettings
@testable import MonitorCtlKit
import XCTest

/// One real etcd for a test class, plus helpers to write fleet state into it and
/// run monitorctl in-process. Every test works under its own key prefix.
final class CtlHarness {
    let cluster: EtcdCluster
    let client: EtcdClient
    let directory: String
    private var counter = 0

    init(cluster: EtcdCluster) throws {
        self.cluster = cluster
        client = EtcdClient(endpoints: cluster.endpoints)
        directory = NSTemporaryDirectory() + "monitorctl-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func stop() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A fresh key prefix and a settings file that points at it.
    func makeFleet(staleAfterRounds: Int = 3) throws -> Fleet {
        counter += 1
        let prefix = "/t\(counter)-\(UUID().uuidString.prefix(6))"
        let path = directory + "/monitor\(counter).conf"
        try """
        [Etcd]
        Endpoints=\(cluster.endpoints.joined(separator: ","))
        KeyPrefix=\(prefix)

        [Server]
        StaleAfterRounds=\(staleAfterRounds)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return Fleet(harness: self, layout: KeyLayout(prefix: prefix), configPath: path)
    }

    /// The member's count of successful Range calls (its Prometheus /metrics).
    func rangeCount() throws -> Int {
        let url = URL(string: cluster.endpoints[0] + "/metrics")!
        let body = Locked<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: url) { data, _, _ in
            body.withLock { $0 = data.map { String(decoding: $0, as: UTF8.self) } }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        let line = try XCTUnwrap(body.withLock { $0 }?.split(separator: "\n").first {
            $0.hasPrefix("grpc_server_handled_total{") && $0.contains(#"grpc_code="OK""#)
                && $0.contains(#"grpc_method="Range""#)
        }, "Range counter in /metrics")
        return Int(Double(line.split(separator: " ").last ?? "") ?? -1)
    }
}

/// The keys of one test's fleet, and monitorctl pointed at them.
struct Fleet {
    let harness: CtlHarness
    let layout: KeyLayout
    let configPath: String

    var client: EtcdClient { harness.client }

    struct Result {
        let code: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `monitorctl <arguments> --config <ours>` in-process.
    @discardableResult
    func run(_ arguments: [String], now: Double? = nil, environment: [String: String] = [:],
             beforeWrite: ((Int) -> Void)? = nil) -> Result {
        let output = CapturedOutput()
        let runner = MonitorctlRunner(output: output, environment: environment,
                                      now: { now ?? Date().timeIntervalSince1970 })
        runner.beforeWrite = beforeWrite
        let code = runner.run(arguments + ["--config", configPath])
        return Result(code: code, stdout: output.stdout, stderr: output.stderr)
    }

    func register(_ node: String, lastStart: Double, stopped: Bool = false, stoppedAt: Double? = nil,
                  machineID: String? = nil, bootID: String? = nil) throws {
        var record = NodeRecord(node: node, hostname: node + ".lan", version: "0.1.0", firstStart: lastStart - 3600,
                                lastStart: lastStart, stopped: stopped, stoppedAt: stoppedAt)
        (record.machineID, record.bootID) = (machineID, bootID)
        try client.put(layout.registry(node), value: record.encoded())
    }

    func heartbeat(_ node: String, _ beat: Heartbeat, lease: Int64) throws {
        try client.put(layout.heartbeat(node), value: beat.encoded(), lease: lease)
    }

    func heartbeat(_ node: String, raw: String, lease: Int64) throws {
        try client.put(layout.heartbeat(node), raw, lease: lease)
    }

    func value(_ key: String) throws -> String? {
        try client.range(key).kvs.first?.valueString
    }

    func object(_ key: String) throws -> NSDictionary? {
        guard let kv = try client.range(key).kvs.first else { return nil }
        return try JSONSerialization.jsonObject(with: Data(kv.value)) as? NSDictionary
    }
}

/// A heartbeat as our agent writes it.
func agentHeartbeat(_ node: String, ts: Double, interval: Double = 10, status: String = Heartbeat.alive,
                    configError: String? = nil) -> Heartbeat {
    var beat = Heartbeat(status: status, ts: ts, hostname: node + ".lan", interval: interval, node: node,
                         version: "0.1.0", seq: 42,
                         metrics: ["cpu": 12.5, "memory": 43, "disk read": 1_258_291, "disk write": 512,
                                   "net in": 2048, "net out": 100],
                         configError: configError)
    beat.memoryTotalBytes = 16 * 1024 * 1024 * 1024
    beat.memoryAvailableBytes = 9 * 1024 * 1024 * 1024
    return beat
}

/// The table's cells, split on runs of 3+ spaces (cells never contain those).
func tableRows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { line in
        line.replacingOccurrences(of: #" {3,}"#, with: "\t", options: .regularExpression)
            .split(separator: "\t").map(String.init)
    }
}


/// Base of the monitorctl test classes: one real etcd per class (started in the
/// class set-up, stopped in its tear-down) and a fresh fleet prefix per test.
class CtlTestCase: EtcdTestCase {
    var harness: CtlHarness!
    var fleet: Fleet!

    override func setUpWithError() throws {
        harness = try CtlHarness(cluster: try requireCluster())
        fleet = try harness.makeFleet()
    }

    override func tearDown() {
        harness?.stop()
        super.tearDown()
    }
}
