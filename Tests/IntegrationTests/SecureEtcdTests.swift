import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation
import XCTest

/// Issue 9: production etcd. Certificates are made by the test with openssl
/// (no key is committed); etcd runs with TLS on its client port, client
/// certificates required, authentication enabled and simple tokens that expire
/// after 5 s, so every request path must renew its token.
final class SecureEtcdTests: DaemonTestCase {
    struct PKI {
        let dir: String
        var ca: String { dir + "/ca.pem" }
        var serverCert: String { dir + "/server.pem" }
        var serverKey: String { dir + "/server.key" }
        var clientCert: String { dir + "/client.pem" }
        var clientKey: String { dir + "/client.key" }
        var otherCA: String { dir + "/other-ca.pem" }
    }

    static let rootPassword = "root-Secret-7f3a"
    static let serverPassword = "server-Secret-91be"
    static let nodePassword = "node-Secret-c04d"

    static func openssl(_ arguments: [String], in dir: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")) failed") }
    }

    /// A CA, etcd's certificate for 127.0.0.1 and a client certificate, plus an
    /// unrelated CA (the "wrong CA" case). EC keys: fast to make.
    static func makePKI(in dir: String) throws -> PKI {
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509"] + key + ["-keyout", "\(ca).key", "-out", "\(ca).pem", "-days", "2",
                                                   "-subj", "/CN=monitor test \(ca)"], in: dir)
        }
        // clientAuth too: etcd's own gateway connects to its gRPC port with this
        // certificate when client certificates are required.
        try "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n".write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        // The client certificate has no Common Name: with authentication on, etcd's
        // JSON gateway refuses one that has (it would ignore it, etcd-io/etcd#10944).
        for (name, subject) in [("server", "/CN=etcd"), ("client", "/O=monitor")] {
            try openssl(["req"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: dir)
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext"], in: dir)
        }
        for file in ["ca.key", "other-ca.key", "server.key", "client.key"] { chmod(dir + "/" + file, 0o600) }
        return PKI(dir: dir)
    }

    func etcdctl(_ etcd: EtcdCluster, _ pki: PKI, user: String?, _ arguments: [String]) throws -> (Int32, String) {
        var args = ["--endpoints", etcd.endpoints[0], "--cacert", pki.ca, "--cert", pki.clientCert, "--key", pki.clientKey]
        if let user { args += ["--user", user] }
        return try runToEnd("/usr/bin/etcdctl", args + arguments, environment: ["ETCDCTL_API": "3"])
    }

    /// Root, a server user and one node user with exact-key rights (made with
    /// etcdctl here; `monitorctl auth` has its own test), then auth on.
    func secure(_ etcd: EtcdCluster, _ pki: PKI, monitorUsers: Bool = true) throws {
        let p = prefix
        let root: [[String]] = [["user", "add", "root:\(Self.rootPassword)"], ["user", "grant-role", "root", "root"]]
        let monitor: [[String]] = [
            ["role", "add", "monitor-server"],
            ["role", "grant-permission", "monitor-server", "--prefix=true", "read", "\(p)/"],
            ["role", "grant-permission", "monitor-server", "--prefix=true", "readwrite", "\(p)/state/"],
            ["role", "grant-permission", "monitor-server", "readwrite", "\(p)/leader"],
            ["user", "add", "monitor-server:\(Self.serverPassword)"], ["user", "grant-role", "monitor-server", "monitor-server"],
            ["role", "add", "monitor-node-w1"],
            ["role", "grant-permission", "monitor-node-w1", "readwrite", "\(p)/heartbeat/w1"],
            ["role", "grant-permission", "monitor-node-w1", "readwrite", "\(p)/nodes/w1"],
            ["role", "grant-permission", "monitor-node-w1", "read", "\(p)/config/w1"],
            ["role", "grant-permission", "monitor-node-w1", "read", "\(p)/config/default"],
            ["user", "add", "monitor-node-w1:\(Self.nodePassword)"], ["user", "grant-role", "monitor-node-w1", "monitor-node-w1"],
        ]
        for step in root + (monitorUsers ? monitor : []) + [["auth", "enable"]] {
            let (code, out) = try etcdctl(etcd, pki, user: nil, step)
            XCTAssertEqual(code, 0, "etcdctl \(step.joined(separator: " ")): \(out)")
        }
    }

    func secureSettings(_ etcd: EtcdCluster, _ pki: PKI, node: String = "", user: String, password: String,
                        ca: String? = nil, clientCert: Bool = true, name: String, passwordMode: mode_t = 0o600) throws -> String {
        let passwordFile = "\(name).password"
        _ = FileManager.default.createFile(atPath: dir + "/" + passwordFile, contents: Data((password + "\n").utf8))
        chmod(dir + "/" + passwordFile, passwordMode)
        var extra = "CAFile=\(ca ?? pki.ca)\nUsername=\(user)\nPasswordFile=\(passwordFile)\n"
        if clientCert { extra += "CertFile=\(pki.clientCert)\nKeyFile=\(pki.clientKey)\n" }
        // [Etcd] lines must come before the [Agent] section settingsFile writes.
        let path = try settingsFile(node: node, ttl: 3, endpoints: etcd.endpoints, name: name)
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "[Agent]", with: extra + "[Agent]")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startSecureEtcd(monitorUsers: Bool = true) throws -> (EtcdCluster, PKI) {
        let pkiDir = dir + "/pki"
        try FileManager.default.createDirectory(atPath: pkiDir, withIntermediateDirectories: true)
        let pki = try Self.makePKI(in: pkiDir)
        let etcd = try EtcdCluster(extraArguments: ["--auth-token", "simple", "--auth-token-ttl", "5"],
                                   tls: .init(certFile: pki.serverCert, keyFile: pki.serverKey, trustedCAFile: pki.ca,
                                              clientAccess: EtcdAccess(caFile: pki.ca, certFile: pki.clientCert,
                                                                       keyFile: pki.clientKey)))
        try secure(etcd, pki, monitorUsers: monitorUsers)
        return (etcd, pki)
    }

    func testANodeUserRegistersAndRetunesOverTLSThroughExpiringTokensAndMayWriteOnlyItsOwnKeys() throws {
        let (etcd, pki) = try startSecureEtcd()
        defer { etcd.stop() }
        let root = EtcdClient(endpoints: etcd.endpoints, access: EtcdAccess(caFile: pki.ca, certFile: pki.clientCert,
                                                                             keyFile: pki.clientKey, username: "root",
                                                                             password: Self.rootPassword))
        client = root
        try root.put("\(prefix)/config/default", #"{"interval": 1}"#)
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", try secureSettings(
            etcd, pki, user: "monitor-server", password: Self.serverPassword, name: "server")])
        try server.waitForLine("watching from")
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", try secureSettings(
            etcd, pki, node: "w1", user: "monitor-node-w1", password: Self.nodePassword, name: "w1")])
        try agent.waitForLine("registered as node w1")
        try server.waitForLine("node w1 ALIVE")
        try server.waitForLine("leading:")
        // Simple tokens live 5 s: retune after several have expired, on every path.
        for (round, interval) in [2, 3, 1].enumerated() {
            Thread.sleep(forTimeInterval: 7)
            // (The put itself may authenticate again: etcd checks the password with bcrypt, about 60 ms.)
            try root.put("\(prefix)/config/w1", #"{"interval": \#(interval)}"#)
            let put = Date()
            let applied = try agent.waitForLine("-> \(interval)s", after: put.addingTimeInterval(-1), timeout: 5)
            print("TLS + auth, tokens expired \(round + 1)x: config applied \(ms(applied.timeIntervalSince(put))) after the put returned")
        }
        XCTAssertFalse(server.output.contains("event=STALE") || server.output.contains("event=DEAD"), server.output)
        XCTAssertEqual(server.output.components(separatedBy: "node w1 ALIVE").count - 1, 1, server.output)
        let record = try XCTUnwrap(try root.range("\(prefix)/state/w1").kvs.first)
        XCTAssertEqual(NodeState.parse(record.value)?.state, .alive, "the server's records are written under its own user")

        // w1's credentials: its own keys only.
        let w1 = EtcdClient(endpoints: etcd.endpoints, access: EtcdAccess(caFile: pki.ca, certFile: pki.clientCert,
                                                                           keyFile: pki.clientKey, username: "monitor-node-w1",
                                                                           password: Self.nodePassword))
        for key in ["\(prefix)/heartbeat/w2", "\(prefix)/config/w1", "\(prefix)/config/default", "\(prefix)/nodes/w2"] {
            XCTAssertThrowsError(try w1.put(key, "{}"), key) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("permission denied") && text.contains(key) && text.contains("monitor-node-w1"), text)
                XCTAssertFalse(text.contains(Self.nodePassword))
            }
        }
        let (code, out) = try etcdctl(etcd, pki, user: "monitor-node-w1:\(Self.nodePassword)",
                                      ["put", "\(prefix)/heartbeat/w2", "{}"])
        XCTAssertNotEqual(code, 0, "etcdctl with w1's user: \(out)")
        XCTAssertTrue(out.contains("permission denied"), out)

        // No secret anywhere in what the daemons wrote.
        for (name, output) in [("server", server.output), ("agent", agent.output)] {
            for secret in [Self.rootPassword, Self.serverPassword, Self.nodePassword] {
                XCTAssertFalse(output.contains(secret), "\(name) logged a password")
            }
        }
        XCTAssertNil(agent.waitExit(timeout: 0))
    }

    func testEachWrongCredentialIsNamedAndAnOpenSecretIsRefused() throws {
        let (etcd, pki) = try startSecureEtcd()
        defer { etcd.stop() }
        func status(_ config: String) throws -> (Int32?, String) {
            let run = try DaemonProcess("monitorctl", arguments: ["status", "--config", config])
            return (run.waitExit(timeout: 15), run.output)
        }
        let cases: [(String, String, String)] = [
            ("wrong CA", try secureSettings(etcd, pki, user: "root", password: Self.rootPassword, ca: pki.otherCA, name: "ca"),
             "signed by an unknown CA"),
            ("no client certificate", try secureSettings(etcd, pki, user: "root", password: Self.rootPassword,
                                                         clientCert: false, name: "nocert"),
             "requires a client certificate"),
            ("wrong password", try secureSettings(etcd, pki, user: "root", password: "not-it", name: "pw"),
             "etcd refused user root at \(etcd.endpoints[0]): wrong user name or password"),
        ]
        for (what, config, expected) in cases {
            let (code, out) = try status(config)
            XCTAssertEqual(code, 3, "\(what): cannot know\n\(out)")
            XCTAssertTrue(out.contains(expected), "\(what): \(out)")
            XCTAssertFalse(out.contains(Self.rootPassword) || out.contains("not-it"), "\(what): a password in the error")
            print("\(what): \(out.split(separator: "\n").first ?? "")")
        }
        // A password file others may read: refused before anything starts.
        let open = try secureSettings(etcd, pki, node: "w1", user: "monitor-node-w1", password: Self.nodePassword,
                                      name: "open", passwordMode: 0o644)
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", open])
        XCTAssertEqual(agent.waitExit(timeout: 5), 78, agent.output)
        XCTAssertTrue(agent.output.contains("open.password: mode 0644 lets other users access this secret"), agent.output)
    }

    /// `monitorctl auth setup` and `auth add-node`, as an operator runs them with
    /// the root user and the TLS flags: users that work, with no more rights.
    func testAuthSetupAndAddNodeMakeLeastPrivilegeUsersThatWork() throws {
        let (etcd, pki) = try startSecureEtcd(monitorUsers: false)
        defer { etcd.stop() }
        let rootFile = dir + "/root.password"
        _ = FileManager.default.createFile(atPath: rootFile, contents: Data("\(Self.rootPassword)\n".utf8))
        chmod(rootFile, 0o600)
        let secrets = dir + "/secrets" // made by auth setup
        // As on a host set up before `auth setup` ran: the settings already name
        // the admin's password file, which does not exist yet; the flags replace it.
        let config = try settingsFile(name: "ctl")
        try (try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "[Agent]", with: "Username=monitor-admin\nPasswordFile=admin.password\n[Agent]"))
            .write(toFile: config, atomically: true, encoding: .utf8)
        func ctl(_ arguments: [String]) throws -> (Int32?, String) {
            let run = try DaemonProcess("monitorctl", arguments: ["--config", config, "--endpoints", etcd.endpoints[0],
                                                                  "--cacert", pki.ca, "--cert", pki.clientCert,
                                                                  "--key", pki.clientKey, "--user", "root",
                                                                  "--password-file", rootFile] + arguments)
            return (run.waitExit(timeout: 15), run.output)
        }
        var (code, out) = try ctl(["auth", "setup", "--output-dir", secrets])
        XCTAssertEqual(code, 0, out)
        XCTAssertTrue(out.contains("user monitor-server: created"), out)
        var dirStatus = stat()
        XCTAssertEqual(stat(secrets, &dirStatus), 0)
        XCTAssertEqual(dirStatus.st_mode & 0o777, 0o700, "a missing --output-dir is made owner-only")
        (code, out) = try ctl(["auth", "setup", "--output-dir", secrets])
        XCTAssertEqual(code, 0, "idempotent: \(out)")
        XCTAssertTrue(out.contains("user monitor-server: exists, password unchanged"), out)
        (code, out) = try ctl(["auth", "add-node", "w2", "--output", secrets + "/w2.password"])
        XCTAssertEqual(code, 0, out)
        var status = stat()
        XCTAssertEqual(stat(secrets + "/w2.password", &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o600, "for delivery, owner only")
        let password = try String(contentsOfFile: secrets + "/w2.password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(out.contains(password), "never printed")

        // The node user works for its own keys and nothing else.
        let w2 = EtcdClient(endpoints: etcd.endpoints, access: EtcdAccess(caFile: pki.ca, certFile: pki.clientCert,
                                                                           keyFile: pki.clientKey, username: "monitor-node-w2",
                                                                           password: password))
        let lease = try w2.grantLease(ttl: 5)
        try w2.put("\(prefix)/heartbeat/w2", #"{"status":"alive","ts":1,"hostname":"w2"}"#, lease: lease.id)
        try w2.put("\(prefix)/nodes/w2", "{}")
        _ = try w2.range("\(prefix)/config/w2")
        _ = try w2.range("\(prefix)/config/default")
        for key in ["\(prefix)/heartbeat/w20", "\(prefix)/heartbeat/w1", "\(prefix)/config/w2"] {
            XCTAssertThrowsError(try w2.put(key, "{}"), "\(key): exact keys, not prefixes")
        }
        XCTAssertThrowsError(try w2.range("\(prefix)/state/w2"), "reads only its own keys")
        // The server's user writes records and the leader key, not heartbeats.
        let serverPassword = try String(contentsOfFile: secrets + "/monitor-server.password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = EtcdClient(endpoints: etcd.endpoints, access: EtcdAccess(caFile: pki.ca, certFile: pki.clientCert,
                                                                               keyFile: pki.clientKey, username: "monitor-server",
                                                                               password: serverPassword))
        try server.put("\(prefix)/state/w2", "{}")
        _ = try server.range("\(prefix)/", prefix: true)
        XCTAssertThrowsError(try server.put("\(prefix)/heartbeat/w2", "{}"))
        // A password file that cannot be written leaves etcd unchanged: no user
        // whose password nobody has.
        _ = FileManager.default.createFile(atPath: secrets + "/w3.password", contents: Data("old\n".utf8))
        (code, out) = try ctl(["auth", "add-node", "w3", "--output", secrets + "/w3.password"])
        XCTAssertNotEqual(code, 0, out)
        XCTAssertTrue(out.contains("w3.password: cannot create"), out)
        let root = EtcdClient(endpoints: etcd.endpoints, access: EtcdAccess(caFile: pki.ca, certFile: pki.clientCert,
                                                                             keyFile: pki.clientKey, username: "root",
                                                                             password: Self.rootPassword))
        XCTAssertFalse(try root.userExists("monitor-node-w3"), out)
        XCTAssertTrue(try root.userExists("monitor-node-w2"))
        (code, out) = try ctl(["auth", "add-node", "all", "--output", secrets + "/all.password"])
        XCTAssertEqual(code, 2, "a wildcard word is no node: \(out)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: secrets + "/all.password"))
    }
}
