import EtcdClient
import EtcdTestSupport
import Foundation
import XCTest

/// Base for tests that run our daemons against one real etcd member shared by
/// the class. Each test gets its own key prefix and settings file, so tests
/// never see each other's nodes.
class DaemonTestCase: EtcdTestCase {
    var dir = ""
    var prefix = ""
    var client: EtcdClient!

    var endpoints: [String] { Self.cluster?.endpoints ?? [] }

    override func setUpWithError() throws {
        _ = try requireCluster()
        guard FileManager.default.isExecutableFile(atPath: DaemonProcess.binary("monitor-agentd")) else {
            throw XCTSkip("monitor-agentd not built next to the test bundle (\(DaemonProcess.binDir.path)); run swift build first")
        }
        dir = NSTemporaryDirectory() + "monitor-it-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        prefix = "/it-" + String(name.filter { $0.isLetter || $0.isNumber }.suffix(40))
        client = EtcdClient(endpoints: endpoints)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    /// Writes a settings file and returns its path.
    func settingsFile(node: String = "", ttl: Int = 3, endpoints: [String]? = nil, extra: String = "",
                      name: String = UUID().uuidString) throws -> String {
        let path = dir + "/\(name).conf"
        let text = """
        [Etcd]
        Endpoints=\((endpoints ?? self.endpoints).joined(separator: ","))
        KeyPrefix=\(prefix)
        [Agent]
        NodeName=\(node)
        LeaseTTLSec=\(ttl)
        \(extra)
        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startAgent(node: String, ttl: Int = 3, endpoints: [String]? = nil,
                    environment: [String: String] = [:]) throws -> DaemonProcess {
        try DaemonProcess("monitor-agentd", arguments: ["--config", try settingsFile(node: node, ttl: ttl, endpoints: endpoints)],
                          environment: environment)
    }

    func startServer(endpoints: [String]? = nil, environment: [String: String] = [:]) throws -> DaemonProcess {
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", try settingsFile(endpoints: endpoints)],
                                       environment: environment)
        try server.waitForLine("watching from")
        return server
    }

    func heartbeat(_ node: String) throws -> KeyValue? {
        try client.range("\(prefix)/heartbeat/\(node)").kvs.first
    }

    /// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
    func cpuSeconds(_ p: DaemonProcess) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(p.process.processIdentifier)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based).
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

    /// Waits until `condition` holds, checking every 50 ms; fails after `timeout`
    /// seconds with `what`. Returns the seconds it took.
    @discardableResult
    func eventually(_ what: String, timeout: Double = 5, _ condition: () throws -> Bool) throws -> Double {
        let start = Date()
        while try !condition() {
            guard Date().timeIntervalSince(start) < timeout else { throw TestFailure("not within \(timeout) s: \(what)") }
            usleep(50_000)
        }
        return Date().timeIntervalSince(start)
    }
}
