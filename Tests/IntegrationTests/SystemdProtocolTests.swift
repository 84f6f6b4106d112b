import EtcdTestSupport
import Foundation
import SystemdTestKit
import XCTest

/// sd_notify as systemd sees it: a datagram socket of ours set as NOTIFY_SOCKET.
final class SystemdProtocolTests: DaemonTestCase {
    func testAgentNotifiesReadyStatusWatchdogReloadingAndStopping() throws {
        let notify = try NotifyRecorder()
        let conf = try settingsFile(node: "s1")
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", conf],
                                      environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "2000000"])
        try notify.waitFor { $0.contains("READY=1") }
        let status = try notify.waitFor { $0.hasPrefix("STATUS=lease ") && $0.contains("alive, interval 10s") }
        XCTAssertFalse(status.contains("\n"), "one line")
        try notify.waitFor({ $0 == "WATCHDOG=1" }, timeout: 3)
        let watchdogs = notify.all().filter { $0 == "WATCHDOG=1" }.count
        Thread.sleep(forTimeInterval: 2.2)
        let more = notify.all().filter { $0 == "WATCHDOG=1" }.count - watchdogs
        XCTAssertGreaterThanOrEqual(more, 1, "pets at half the interval (1 s)")
        XCTAssertLessThanOrEqual(more, 4, "and not more often")

        // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1.
        let t0 = Date()
        agent.signal(SIGHUP)
        let reloading = try notify.waitFor({ $0.hasPrefix("RELOADING=1") }, after: t0)
        XCTAssertTrue(reloading.contains("MONOTONIC_USEC="))
        try notify.waitFor({ $0.contains("READY=1") }, after: t0)
        try agent.waitForLine("settings reloaded", after: t0)

        let t1 = Date()
        agent.signal(SIGTERM)
        try notify.waitFor({ $0.contains("STOPPING=1") }, after: t1)
        XCTAssertEqual(agent.waitExit(timeout: 1.5), 0)
        print("agent exit after SIGTERM: \(ms(Date().timeIntervalSince(t1)))")
    }

    func testServerStatusSummarisesTheFleet() throws {
        let notify = try NotifyRecorder()
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", try settingsFile()],
                                       environment: ["NOTIFY_SOCKET": notify.address])
        try notify.waitFor { $0.contains("READY=1") }
        let a = try startAgent(node: "s2"), b = try startAgent(node: "s3")
        try notify.waitFor { $0 == "STATUS=2 nodes: 2 alive" }
        b.signal(SIGKILL)
        _ = b.waitExit(timeout: 2)
        try notify.waitFor({ $0 == "STATUS=2 nodes: 1 alive, 1 dead" }, timeout: 8)
        a.signal(SIGTERM)
        try notify.waitFor({ $0 == "STATUS=2 nodes: 1 stopped, 1 dead" }, timeout: 3)
        server.signal(SIGTERM)
        try notify.waitFor { $0.contains("STOPPING=1") }
        XCTAssertEqual(server.waitExit(timeout: 2), 0)
    }

    /// `--check-config` (what ExecReload= runs first) and a failed SIGHUP reload
    /// that STATUS= reports until a good one.
    func testAFailedReloadIsVisible() throws {
        let conf = try settingsFile(node: "s5", name: "reload")
        for daemon in ["monitor-agentd", "monitor-serverd"] {
            let good = try DaemonProcess(daemon, arguments: ["--check-config", "--config", conf])
            XCTAssertEqual(good.waitExit(timeout: 5), 0, daemon)
            Thread.sleep(forTimeInterval: 0.05)
            XCTAssertTrue(good.output.contains("settings in \(conf) are valid"), good.output)
        }
        let notify = try NotifyRecorder()
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", conf],
                                       environment: ["NOTIFY_SOCKET": notify.address])
        try notify.waitFor { $0.contains("READY=1") }
        let original = try String(contentsOfFile: conf, encoding: .utf8)
        try (original + "\n[Server]\nStaleAfterRounds=1\n").write(toFile: conf, atomically: true, encoding: .utf8)
        let check = try DaemonProcess("monitor-serverd", arguments: ["--check-config", "--config", conf])
        XCTAssertEqual(check.waitExit(timeout: 5), 78)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertTrue(check.output.contains("\(conf):"), check.output)
        XCTAssertTrue(check.output.contains("StaleAfterRounds=\"1\": expected a whole number of rounds from 2 to 100"), check.output)

        let t0 = Date()
        server.signal(SIGHUP)
        try notify.waitFor({ $0.hasPrefix("STATUS=") && $0.contains("last reload failed, running settings kept: \(conf):") }, after: t0)
        XCTAssertNil(server.waitExit(timeout: 0.2), "it keeps running")
        try original.write(toFile: conf, atomically: true, encoding: .utf8)
        let t1 = Date()
        server.signal(SIGHUP)
        try notify.waitFor({ $0.hasPrefix("STATUS=") && !$0.contains("reload failed") }, after: t1)
        server.signal(SIGTERM)
        XCTAssertEqual(server.waitExit(timeout: 2), 0)
    }

    /// systemd 252 gives a DynamicUser= unit's ExecReload= no access to its
    /// LoadCredential= directory: `--check-config` then checks everything else
    /// and says it left the credentials to the daemon; a readable directory is
    /// checked as always.
    func testCheckConfigLeavesCredentialsItMayNotReadToTheDaemon() throws {
        let creds = dir + "/creds"
        try FileManager.default.createDirectory(atPath: creds, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        let conf = try settingsFile(node: "c1", name: "creds")
        let text = try String(contentsOfFile: conf, encoding: .utf8)
            .replacingOccurrences(of: "[Agent]", with: "Username=u\nPasswordFile=etcd-password\n[Agent]")
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        chmod(conf, 0o644)
        /// Runs the check as another user (nobody) when we are root, as systemd
        /// runs ExecReload= as the unit's dynamic user.
        func check(_ config: String, credentialsMode: mode_t) throws -> (Int32, String) {
            chmod(creds, credentialsMode)
            let binary = DaemonProcess.binary("monitor-agentd")
            let check = ["--check-config", "--config", config]
            let environment = ["CREDENTIALS_DIRECTORY": creds, "PATH": "/usr/bin:/bin"]
            guard getuid() == 0 else { return try runToEnd(binary, check, environment: environment) }
            return try runToEnd("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + check,
                                environment: environment)
        }
        if getuid() == 0 {
            let (reachable, _) = try runToEnd("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                                   "/usr/bin/test", "-x", DaemonProcess.binary("monitor-agentd"),
                                                                   "-a", "-r", conf], environment: [:])
            if reachable != 0 {
                throw XCTSkip("user nobody cannot reach \(DaemonProcess.binary("monitor-agentd")) or \(conf) (a checkout in a private directory)")
            }
        }
        var (code, out) = try check(conf, credentialsMode: 0o700)
        XCTAssertEqual(code, 0, out)
        XCTAssertTrue(out.contains("settings in \(conf) are valid; \(creds) is not readable by this command"), out)
        XCTAssertTrue(out.contains("checked by the daemon when it reloads"), out)

        (code, out) = try check(conf, credentialsMode: 0o755)
        XCTAssertEqual(code, 78, "a readable directory is checked: the password file is missing: \(out)")
        XCTAssertTrue(out.contains("\(creds)/etcd-password: cannot open"), out)

        try (text + "\n[Agent]\nLeaseTTLSec=abc\n").write(toFile: conf, atomically: true, encoding: .utf8)
        chmod(conf, 0o644)
        (code, out) = try check(conf, credentialsMode: 0o700)
        XCTAssertEqual(code, 78, "everything else is still checked: \(out)")
        XCTAssertTrue(out.contains("LeaseTTLSec=\"abc\""), out)
    }

    func testAStuckWorkerThreadStopsTheWatchdogPets() throws {
        let notify = try NotifyRecorder()
        let agent = try DaemonProcess("monitor-agentd", arguments: ["--config", try settingsFile(node: "s4")],
                                      environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "1000000",
                                                    "MONITOR_TEST_STALL_WORKER": "config watch"])
        try notify.waitFor { $0.contains("READY=1") }
        Thread.sleep(forTimeInterval: 2)
        XCTAssertFalse(notify.all().contains("WATCHDOG=1"), "no pet while a thread is stuck")
        try agent.waitForLine("not petting the watchdog: config watch")
    }

    func testSettingsErrorsExit78WithFileLineAndExpectation() throws {
        let cases: [(String, String)] = [
            ("[Agent]\nLeaseTTL=5\n", ":2: unknown key \"LeaseTTL\" in [Agent]; expected one of: NodeName, LeaseTTLSec"),
            ("[Agent]\nLeaseTTLSec=abc\n", ":2: LeaseTTLSec=\"abc\": expected a whole number of seconds from 2 to 3600"),
            ("[Etcd]\nEndpoints=ftp://x\n", ":2: Endpoints=\"ftp://x\": expected"),
            ("[Nope]\n", ":1: unknown section \"Nope\""),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = dir + "/bad\(index).conf"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            for daemon in ["monitor-agentd", "monitor-serverd"] {
                let p = try DaemonProcess(daemon, arguments: ["--config", path])
                XCTAssertEqual(p.waitExit(timeout: 5), 78, "\(daemon) with \(text)")
                Thread.sleep(forTimeInterval: 0.05)
                XCTAssertTrue(p.output.contains(path + expected), "\(daemon) said: \(p.output)")
                XCTAssertEqual(p.output.split(separator: "\n").count, 1, "one message")
            }
        }
        let missing = try DaemonProcess("monitor-agentd", arguments: ["--config", dir + "/absent.conf"])
        XCTAssertEqual(missing.waitExit(timeout: 5), 78)
        XCTAssertTrue(missing.output.contains(dir + "/absent.conf"))

        // Not a settings file at all: refused at once, never read (was: /dev/zero grew
        // to 1.25 GB, a FIFO blocked silently, a 1 MB line became a 1 MB message).
        let fifo = dir + "/fifo.conf"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let longLine = dir + "/long.conf"
        try ("[Agent]\nNodeName=" + String(repeating: "x", count: 1_000_000) + "\n").write(toFile: longLine, atomically: true, encoding: .utf8)
        for (path, expected) in [("/dev/zero", "/dev/zero: not a regular file (a character device)"),
                                 (fifo, fifo + ": not a regular file (a FIFO)"),
                                 (longLine, longLine + ":2: NodeName=\"" + String(repeating: "x", count: 79) + "…\": expected")] {
            let p = try DaemonProcess("monitor-agentd", arguments: ["--config", path])
            XCTAssertEqual(p.waitExit(timeout: 5), 78, path)
            Thread.sleep(forTimeInterval: 0.05)
            XCTAssertTrue(p.output.contains(expected), p.output)
            XCTAssertLessThan(p.output.utf8.count, 400, "a short message")
        }
    }

    /// SIGTERM during start-up (etcd not reachable yet) ends the daemon at once.
    func testSIGTERMDuringStartUpIsHonoured() throws {
        let unreachable = "http://127.0.0.1:\(try EtcdCluster.freePort())"
        for daemon in ["monitor-agentd", "monitor-serverd"] {
            let p = try DaemonProcess(daemon, arguments: ["--config", try settingsFile(node: "early", endpoints: [unreachable])])
            usleep(50_000)
            let sent = Date()
            p.signal(SIGTERM)
            XCTAssertNotNil(p.waitExit(timeout: 2), "\(daemon) ends")
            XCTAssertLessThan(Date().timeIntervalSince(sent), 1.5, daemon)
        }
    }

    func testHelpAndVersionOnEveryExecutable() throws {
        for name in ["monitor-agentd", "monitor-serverd", "monitorctl"] {
            let help = try DaemonProcess(name, arguments: ["--help"])
            XCTAssertEqual(help.waitExit(timeout: 5), 0)
            Thread.sleep(forTimeInterval: 0.05)
            XCTAssertTrue(help.output.contains("USAGE: \(name)"), "\(name) --help: \(help.output)")
            let version = try DaemonProcess(name, arguments: ["--version"])
            XCTAssertEqual(version.waitExit(timeout: 5), 0)
            Thread.sleep(forTimeInterval: 0.05)
            XCTAssertTrue(version.output.contains("0.1.0"))
        }
    }
}
