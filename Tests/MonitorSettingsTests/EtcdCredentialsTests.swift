import Foundation
@testable import MonitorSettings
import XCTest

/// [Etcd] TLS and authentication files: where they are looked up, what is refused.
final class EtcdCredentialsTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "monitor-cred-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/creds", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func write(_ name: String, _ text: String, mode: mode_t = 0o600) {
        _ = FileManager.default.createFile(atPath: name, contents: Data(text.utf8))
        chmod(name, mode)
    }

    func etcd(_ lines: String) throws -> EtcdSettings {
        try Settings.parse("[Etcd]\n" + lines, file: dir + "/monitor.conf").etcd
    }

    func testRelativeFilesComeFromTheCredentialsDirectoryElseNextToTheSettings() throws {
        write(dir + "/pw", "next-to-settings\n")
        write(dir + "/creds/pw", "from-systemd\r\n")
        write(dir + "/ca.pem", "x", mode: 0o644)
        let settings = try etcd("Username=node1\nPasswordFile=pw\nCAFile=ca.pem\n")
        let plain = try EtcdCredentials.resolve(settings, settingsFile: dir + "/monitor.conf", credentialsDirectory: nil)
        XCTAssertEqual(plain.password?.value, "next-to-settings")
        XCTAssertEqual(plain.caFile, dir + "/ca.pem", "a CA file may be world-readable")
        write(dir + "/creds/ca.pem", "x", mode: 0o644)
        let systemd = try EtcdCredentials.resolve(settings, settingsFile: dir + "/monitor.conf", credentialsDirectory: dir + "/creds")
        XCTAssertEqual(systemd.password?.value, "from-systemd", "LoadCredential= wins; the line ending is not part of it")
        XCTAssertEqual(systemd.username, "node1")
        XCTAssertEqual("\(systemd)", "CA \(dir)/creds/ca.pem, user node1", "no password in any description")
        XCTAssertEqual("\(systemd.password!)", "<secret>")
    }

    /// A host running an agent and a server: each daemon reads only its own
    /// identity, so the agent's unit never needs the server's password.
    func testTheServerTakesItsOwnUserAndOnlyItReadsThatPassword() throws {
        let file = dir + "/monitor.conf"
        write(file, "[Etcd]\nUsername=monitor-node-w1\nPasswordFile=node.pw\n"
                    + "[Server]\nEtcdUsername=monitor-server\nEtcdPasswordFile=server.pw\n", mode: 0o644)
        write(dir + "/node.pw", "node-secret\n")
        let agent = try Settings.load(path: file, required: true, program: .agent)
        XCTAssertEqual(agent.etcd.credentials.username, "monitor-node-w1")
        XCTAssertEqual(agent.etcd.credentials.password?.value, "node-secret", "server.pw does not exist and is not needed")
        XCTAssertEqual(try Settings.load(path: file, required: true).etcd.credentials.username, "monitor-node-w1",
                       "monitorctl uses [Etcd]")
        XCTAssertThrowsError(try Settings.load(path: file, required: true, program: .server)) { error in
            XCTAssertEqual("\(error)", "\(dir)/server.pw: cannot open: No such file or directory")
        }
        write(dir + "/server.pw", "server-secret\n")
        let server = try Settings.load(path: file, required: true, program: .server)
        XCTAssertEqual(server.etcd.credentials.username, "monitor-server")
        XCTAssertEqual(server.etcd.credentials.password?.value, "server-secret")

        write(file, "[Server]\nEtcdUsername=monitor-server\n", mode: 0o644)
        XCTAssertNoThrow(try Settings.load(path: file, required: true, program: .agent))
        XCTAssertThrowsError(try Settings.load(path: file, required: true, program: .server)) { error in
            XCTAssertEqual("\(error)", "\(file): [Server] EtcdUsername is set but EtcdPasswordFile is not; expected both or neither")
        }
    }

    func testOpenSecretsMissingPartnersAndBadPasswordFilesAreRefusedNamingTheFile() throws {
        let file = dir + "/monitor.conf"
        func refusal(_ lines: String) -> String {
            do {
                _ = try EtcdCredentials.resolve(try etcd(lines), settingsFile: file, credentialsDirectory: nil)
                return "accepted"
            } catch { return "\(error)" }
        }
        write(dir + "/open", "pw\n", mode: 0o644)
        XCTAssertEqual(refusal("Username=u\nPasswordFile=open\n"),
                       "\(dir)/open: mode 0644 lets other users access this secret; expected no access for others "
                       + "(chmod o-rwx \(dir)/open, e.g. 0600 or 0640)")
        write(dir + "/key.pem", "k", mode: 0o604)
        write(dir + "/cert.pem", "c", mode: 0o644)
        XCTAssertTrue(refusal("CertFile=cert.pem\nKeyFile=key.pem\n").hasPrefix("\(dir)/key.pem: mode 0604"))
        XCTAssertEqual(refusal("CertFile=cert.pem\n"), "\(file): [Etcd] CertFile is set but KeyFile is not; expected both or neither")
        XCTAssertEqual(refusal("Username=u\n"), "\(file): [Etcd] Username is set but PasswordFile is not; expected both or neither")
        XCTAssertEqual(refusal("Username=u\nPasswordFile=missing\n"), "\(dir)/missing: cannot open: No such file or directory")
        write(dir + "/empty", "\n")
        XCTAssertEqual(refusal("Username=u\nPasswordFile=empty\n"), "\(dir)/empty: empty; expected the password")
        write(dir + "/two", "a\nb\n")
        XCTAssertEqual(refusal("Username=u\nPasswordFile=two\n"), "\(dir)/two: more than one line; expected one line, the password")
        write(dir + "/group", "pw\n", mode: 0o640)
        XCTAssertEqual(refusal("Username=u\nPasswordFile=group\n"), "accepted", "root:monitor 0640 is fine")
        XCTAssertEqual(try etcd("").credentials, EtcdCredentials(), "nothing set: plain etcd")
    }
}
