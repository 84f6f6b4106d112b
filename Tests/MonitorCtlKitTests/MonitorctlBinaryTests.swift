import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
import XCTest

/// Finds and runs the built `monitorctl` executable.
enum MonitorctlBinary {
    /// Next to the test bundle (SwiftPM puts products and the .xctest in one directory).
    static let path: String? = {
        let candidates = [
            URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: Bundle.main.bundlePath),
            URL(fileURLWithPath: Bundle.main.bundlePath).deletingLastPathComponent(),
        ]
        return candidates.map { $0.appendingPathComponent("monitorctl").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Result {
        let code: Int32
        let stdout: String
        let stderr: String
    }

    /// - Parameter environment: added to this process's environment.
    static func run(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a large output would fill the pipe and block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(code: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// The real executable: exit codes, help, version, and a clean stop of `watch`.
final class MonitorctlBinaryTests: XCTestCase {
    var binary: String!

    override func setUpWithError() throws {
        guard let path = MonitorctlBinary.path else {
            throw XCTSkip("monitorctl binary not found next to the test bundle (build it: swift build --product monitorctl)")
        }
        binary = path
    }

    func testHelpVersionAndUsageErrors() throws {
        let help = try MonitorctlBinary.run(binary, ["--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.stdout.contains("Exit codes: 0 success"), help.stdout)
        XCTAssertTrue(help.stdout.contains("--endpoints"), "connection options at the top: \(help.stdout)")
        for command in [["status"], ["config", "set"], ["config", "get"], ["config", "edit"], ["config", "list"],
                        ["config", "delete"], ["node", "forget"], ["watch"], ["endpoints"]] {
            let sub = try MonitorctlBinary.run(binary, command + ["--help"])
            XCTAssertEqual(sub.code, 0, "\(command)")
            XCTAssertTrue(sub.stdout.contains("USAGE: monitorctl \(command.joined(separator: " "))"), sub.stdout)
            XCTAssertTrue(sub.stdout.contains("--endpoints"), "\(command)")
            let version = try MonitorctlBinary.run(binary, command + ["--version"])
            XCTAssertEqual(version.code, 0)
            XCTAssertEqual(version.stdout, MonitorVersion.string + "\n")
        }
        XCTAssertEqual(try MonitorctlBinary.run(binary, []).code, 2, "no command")
        XCTAssertEqual(try MonitorctlBinary.run(binary, ["status", "--bogus"]).code, 2)
        let bad = try MonitorctlBinary.run(binary, ["config", "set", "w1", "metrics=gpu"])
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.stderr.contains("known names: cpu, memory"), bad.stderr)
        let missing = try MonitorctlBinary.run(binary, ["status", "--config", "/nonexistent/monitor.conf"])
        XCTAssertEqual(missing.code, 78)
        XCTAssertEqual(missing.stderr, "monitorctl: /nonexistent/monitor.conf: cannot open: No such file or directory\n")
        let down = try MonitorctlBinary.run(binary, ["status", "--endpoints", "http://127.0.0.1:\(try EtcdCluster.freePort())"])
        XCTAssertEqual(down.code, 3, "UNKNOWN")
        XCTAssertTrue(down.stderr.contains("etcd unreachable at http://127.0.0.1:"), down.stderr)
        XCTAssertFalse(down.stderr.contains("Fatal error"), down.stderr)
    }

    /// As etcdctl and kubectl users type it: connection options before the
    /// command, the environment, `-o json` through a pipe, a typo's suggestion.
    func testConnectionOptionsAndFormatsThroughTheBinary() throws {
        let (cluster, harness, fleet) = try startFleet(alive: "alpha")
        defer { cluster.stop(); harness.stop() }
        let endpoint = cluster.endpoints[0].replacingOccurrences(of: "http://", with: "")
        let unreachable = "127.0.0.1:\(try EtcdCluster.freePort())"

        let root = try MonitorctlBinary.run(binary, ["--config", fleet.configPath, "--endpoints", endpoint, "status", "alpha"],
                                            environment: ["MONITOR_ENDPOINTS": unreachable])
        XCTAssertEqual(root.code, 0, root.stderr)
        XCTAssertTrue(root.stdout.contains("\nalpha "), root.stdout)
        let env = try MonitorctlBinary.run(binary, ["status"], environment: ["MONITOR_CONFIG": fleet.configPath,
                                                                              "MONITOR_ENDPOINTS": unreachable])
        XCTAssertEqual(env.code, 3, "the environment's endpoints over the file's")
        XCTAssertTrue(env.stderr.contains("etcd unreachable at http://\(unreachable)"), env.stderr)
        let get = try MonitorctlBinary.run(binary, ["config", "get", "alpha", "-o", "json", "--config", fleet.configPath])
        XCTAssertEqual(get.code, 0, get.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [String: Any], get.stdout)
        let endpoints = try MonitorctlBinary.run(binary, ["--config", fleet.configPath, "endpoints", "--health"])
        XCTAssertEqual(endpoints.code, 0, endpoints.stderr)
        XCTAssertTrue(endpoints.stdout.hasPrefix("ENDPOINT "), endpoints.stdout)
        let typo = try MonitorctlBinary.run(binary, ["--config", fleet.configPath, "stauts"])
        XCTAssertEqual(typo.code, 2)
        XCTAssertTrue(typo.stderr.contains("did you mean 'status'?"), typo.stderr)
        let refused = try MonitorctlBinary.run(binary, ["config", "set", "alpah", "interval=2", "--config", fleet.configPath])
        XCTAssertEqual(refused.code, 1)
        XCTAssertTrue(refused.stderr.contains("node 'alpah' has never registered"), refused.stderr)
    }

    /// A one-member etcd (the caller stops it and the harness), a fleet prefix in
    /// it and `node` registered and alive there.
    private func startFleet(alive node: String) throws -> (EtcdCluster, CtlHarness, Fleet) {
        guard EtcdCluster.isAvailable else { throw XCTSkip("etcd not available at \(EtcdCluster.binary)") }
        let cluster = try EtcdCluster()
        let harness = try CtlHarness(cluster: cluster)
        let fleet = try harness.makeFleet()
        let now = Date().timeIntervalSince1970
        let lease = try fleet.client.grantLease(ttl: 60)
        try fleet.register(node, lastStart: now - 60)
        try fleet.heartbeat(node, agentHeartbeat(node, ts: now), lease: lease.id)
        return (cluster, harness, fleet)
    }

    func testStatusExitCodesAndWatchStopsOnSIGTERM() throws {
        let (cluster, harness, fleet) = try startFleet(alive: "w1")
        defer { cluster.stop(); harness.stop() }
        let now = Date().timeIntervalSince1970
        let ok = try MonitorctlBinary.run(binary, ["status", "--config", fleet.configPath])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.hasPrefix("NODE "), ok.stdout)

        try fleet.register("w2", lastStart: now - 60)
        let dead = try MonitorctlBinary.run(binary, ["status", "-o", "json", "--config", fleet.configPath])
        XCTAssertEqual(dead.code, 2, "CRITICAL")
        XCTAssertTrue(dead.stdout.contains(#""summary" : "2 nodes: 1 alive, 1 dead""#), dead.stdout)

        // watch: prints the snapshot, then exits 0 promptly on SIGTERM.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["watch", "--config", fleet.configPath]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        while !text.contains("w1 ALIVE") && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(text.hasSuffix(" w1 ALIVE\n"), text)
        let stopAt = Date()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertLessThan(-stopAt.timeIntervalSinceNow, 2, "stops promptly")
    }
}
