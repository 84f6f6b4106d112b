import Concurrency
import EtcdClient
import Foundation

/// Real etcd members (Debian's etcd-server binary) on loopback with free ports and
/// a temp data dir, for tests and the demo. Owns the processes and the directory;
/// `stop()` (also run on deinit) kills every member and removes the directory.
public final class EtcdCluster: Sendable {
    public struct Member: Sendable {
        public let name: String
        public let clientURL: String
        public let peerURL: String
        public let dataDir: String
    }

    public let members: [Member]
    public let baseDir: String
    /// The running process of each member (nil while it is down).
    private let processes: Locked<[Process?]>

    /// Client URLs of all members, in member order.
    public var endpoints: [String] { members.map(\.clientURL) }

    /// The etcd binary: $ETCD_BIN, else /usr/bin/etcd.
    public static var binary: String {
        ProcessInfo.processInfo.environment["ETCD_BIN"] ?? "/usr/bin/etcd"
    }

    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// TLS on the client port: etcd's certificate and key, the CA whose client
    /// certificates it accepts (`--client-cert-auth`), and what our own client
    /// presents to it while the tests wait for the cluster.
    public struct TLS: Sendable {
        public var certFile: String
        public var keyFile: String
        public var trustedCAFile: String
        public var clientAccess: EtcdAccess

        public init(certFile: String, keyFile: String, trustedCAFile: String, clientAccess: EtcdAccess) {
            (self.certFile, self.keyFile, self.trustedCAFile, self.clientAccess) = (certFile, keyFile, trustedCAFile, clientAccess)
        }
    }

    /// Starts `size` members and waits until the cluster answers.
    public init(size: Int = 1, extraArguments: [String] = [], tls: TLS? = nil) throws {
        baseDir = NSTemporaryDirectory() + "monitor-etcd-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: baseDir, withIntermediateDirectories: true)
        var members: [Member] = []
        for i in 0..<size {
            let client = try Self.freePort(), peer = try Self.freePort()
            members.append(Member(name: "m\(i)", clientURL: "\(tls == nil ? "http" : "https")://127.0.0.1:\(client)",
                                  peerURL: "http://127.0.0.1:\(peer)", dataDir: baseDir + "/m\(i)"))
        }
        self.members = members
        processes = Locked(Array(repeating: nil, count: size))
        self.extraArguments = extraArguments + (tls.map {
            ["--cert-file", $0.certFile, "--key-file", $0.keyFile, "--trusted-ca-file", $0.trustedCAFile, "--client-cert-auth"]
        } ?? [])
        clientAccess = tls?.clientAccess
        do {
            for i in members.indices { try start(member: i) }
            try waitUntilReady(timeout: 20)
        } catch {
            stop()
            throw error
        }
    }

    private let extraArguments: [String]
    private let clientAccess: EtcdAccess?

    deinit { stop() }

    /// (Re)starts member `index` with its existing data dir.
    public func start(member index: Int) throws {
        let m = members[index]
        let initial = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = [
            "--name", m.name, "--data-dir", m.dataDir,
            "--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
            "--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
            "--initial-cluster", initial, "--initial-cluster-state", "new",
            "--initial-cluster-token", "monitor-test",
            // Fast elections keep failover tests short.
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--log-level", "warn",
        ] + extraArguments
        let log = FileHandle(forWritingAtPath: baseDir + "/\(m.name).log") ?? {
            _ = FileManager.default.createFile(atPath: baseDir + "/\(m.name).log", contents: nil)
            return FileHandle(forWritingAtPath: baseDir + "/\(m.name).log")!
        }()
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        processes.withLock { $0[index] = p }
    }

    /// The process ID of member `index`, nil while it is down (for CPU figures).
    public func pid(member index: Int) -> Int32? {
        processes.withLock { $0[index]?.processIdentifier }
    }

    /// Kills member `index` with `signal` (SIGKILL by default) and reaps it.
    public func kill(member index: Int, signal: Int32 = SIGKILL) {
        let p = processes.withLock { running -> Process? in
            defer { running[index] = nil }
            return running[index]
        }
        guard let p, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, signal)
        p.waitUntilExit()
    }

    /// Waits until a write succeeds through any member (a leader exists).
    public func waitUntilReady(timeout: Double) throws {
        let client = EtcdClient(endpoints: endpoints, requestTimeout: 1, access: clientAccess)
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: Error?
        while Date() < deadline {
            do {
                try client.put("/__ready", "1")
                return
            } catch {
                lastError = error
                usleep(100_000)
            }
        }
        throw EtcdClusterError.notReady("\(lastError.map { "\($0)" } ?? "timeout") (logs in \(baseDir))")
    }

    /// Kills every member and removes the data directory.
    public func stop() {
        for i in members.indices { kill(member: i) }
        try? FileManager.default.removeItem(atPath: baseDir)
    }

    /// A port that was free a moment ago (bound to port 0, then released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EtcdClusterError.notReady("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw EtcdClusterError.notReady("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

public enum EtcdClusterError: Error, CustomStringConvertible {
    case notReady(String)
    public var description: String {
        switch self { case let .notReady(why): return "etcd did not become ready: \(why)" }
    }
}

extension EtcdCluster {
    /// Index of the member that is leader now, asking the live members.
    public func leaderIndex() throws -> Int {
        let client = EtcdClient(endpoints: endpoints, requestTimeout: 1)
        var ids: [Int: UInt64] = [:]
        var leader: UInt64 = 0
        let running = processes.withLock { $0.map { $0 != nil } }
        for (i, m) in members.enumerated() where running[i] {
            if let status = try? client.memberStatus(endpoint: m.clientURL) {
                ids[i] = status.member
                if status.leader != 0 { leader = status.leader }
            }
        }
        guard let index = ids.first(where: { $0.value == leader })?.key else {
            throw EtcdClusterError.notReady("no leader among \(ids.count) live members")
        }
        return index
    }
}
