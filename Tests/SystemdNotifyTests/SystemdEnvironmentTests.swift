import Concurrency
import Glibc
@testable import SystemdNotify
import SystemdTestKit
import XCTest

/// sd_notify and the watchdog settings from the environment (saved and
/// restored around each test by `EnvironmentTestCase`).
final class SystemdEnvironmentTests: EnvironmentTestCase {
    private func makeNotifySocket(abstract: Bool = false) throws -> NotifySocket {
        let socket = try NotifySocket(abstract: abstract)
        cleanups.append { socket.close() }
        setenv("NOTIFY_SOCKET", socket.address, 1)
        return socket
    }

    // MARK: SystemdNotifier

    func testEachNotificationSendsExactlyItsState() throws {
        let socket = try makeNotifySocket()
        XCTAssertTrue(try SystemdNotifier.ready())
        XCTAssertEqual(try socket.receive(), "READY=1")
        XCTAssertTrue(try SystemdNotifier.watchdog())
        XCTAssertEqual(try socket.receive(), "WATCHDOG=1")
        XCTAssertTrue(try SystemdNotifier.stopping())
        XCTAssertEqual(try socket.receive(), "STOPPING=1")
        XCTAssertTrue(try SystemdNotifier.status("4 nodes alive"))
        XCTAssertEqual(try socket.receive(), "STATUS=4 nodes alive")
        XCTAssertTrue(try SystemdNotifier.send("EXTEND_TIMEOUT_USEC=5000000"))
        XCTAssertEqual(try socket.receive(), "EXTEND_TIMEOUT_USEC=5000000")
        XCTAssertFalse(socket.hasPendingDatagram())
        // sd_notify(0, ...) must leave the variable for later notifications.
        XCTAssertEqual(getenv("NOTIFY_SOCKET").map { String(cString: $0) }, socket.address)
    }

    func testStatusKeepsOneLine() throws {
        let socket = try makeNotifySocket()
        try SystemdNotifier.status("etcd unreachable\nretrying\r\nin 4s\n")
        XCTAssertEqual(try socket.receive(), "STATUS=etcd unreachable retrying in 4s")
        try SystemdNotifier.status("\n\n")
        XCTAssertEqual(try socket.receive(), "STATUS=")
    }

    func testReloadingCarriesMonotonicTimestamp() throws {
        let socket = try makeNotifySocket()
        try SystemdNotifier.reloading(at: MonotonicInstant(nanoseconds: 12_345_678_999))
        XCTAssertEqual(try socket.receive(), "RELOADING=1\nMONOTONIC_USEC=12345678")

        let before = MonotonicInstant.now().microseconds
        try SystemdNotifier.reloading()
        let after = MonotonicInstant.now().microseconds
        let lines = try socket.receive().split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines.first, "RELOADING=1")
        let prefix = "MONOTONIC_USEC="
        let stamp = lines.last.flatMap { $0.hasPrefix(prefix) ? UInt64($0.dropFirst(prefix.count)) : nil }
        XCTAssertNotNil(stamp)
        XCTAssertTrue((before...after).contains(stamp ?? 0), "\(stamp ?? 0) not in \(before)...\(after)")
    }

    func testAbstractSocketAddress() throws {
        let socket = try makeNotifySocket(abstract: true)
        XCTAssertTrue(socket.address.hasPrefix("@"))
        XCTAssertTrue(try SystemdNotifier.ready())
        XCTAssertEqual(try socket.receive(), "READY=1")
    }

    func testNotUnderSystemdIsNotAnError() throws {
        XCTAssertNil(getenv("NOTIFY_SOCKET"))
        XCTAssertFalse(try SystemdNotifier.ready())
        XCTAssertFalse(try SystemdNotifier.watchdog())
        XCTAssertFalse(try SystemdNotifier.reloading())
    }

    func testUnreachableSocketThrows() throws {
        setenv("NOTIFY_SOCKET", "/tmp/notify-test-missing-\(getpid())/notify.sock", 1)
        XCTAssertThrowsError(try SystemdNotifier.ready()) { error in
            let systemdError = error as? SystemdError
            XCTAssertEqual(systemdError?.function, "sd_notify")
            XCTAssertGreaterThan(systemdError?.errno ?? 0, 0)
        }
    }

    // MARK: WatchdogSettings

    func testWatchdogForThisProcess() throws {
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        let settings = try WatchdogSettings.fromEnvironment()
        XCTAssertEqual(settings?.interval, .seconds(3))
        XCTAssertEqual(settings?.petInterval, .milliseconds(1500))
        // Read with unset_environment=0: a second read sees the same.
        XCTAssertEqual(try WatchdogSettings.fromEnvironment(), settings)
    }

    func testWatchdogOfAnotherProcessIsNotOurs() throws {
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", String(getpid() == 1 ? 2 : 1), 1)
        XCTAssertNil(try WatchdogSettings.fromEnvironment())
    }

    func testWatchdogWithoutPidApplies() throws {
        // libsystemd treats a missing WATCHDOG_PID as "for this process".
        setenv("WATCHDOG_USEC", "500", 1)
        XCTAssertEqual(try WatchdogSettings.fromEnvironment()?.interval, .microseconds(500))
    }

    func testWatchdogDisabled() throws {
        XCTAssertNil(try WatchdogSettings.fromEnvironment())
    }

    func testMalformedWatchdogThrows() {
        setenv("WATCHDOG_USEC", "soon", 1)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        XCTAssertThrowsError(try WatchdogSettings.fromEnvironment()) { error in
            XCTAssertEqual((error as? SystemdError)?.function, "sd_watchdog_enabled")
        }
    }
}
