import Concurrency
@testable import DaemonKit
import Glibc
import LoggingTestKit
import SystemdTestKit
import XCTest

/// The watchdog schedule and its health gate, against a real notify socket.
final class WatchdogPetterTests: EnvironmentTestCase {
    private let (logger, store) = MemoryLogHandler.makeLogger(label: "test")

    private func watchdogFor(usec: String) throws -> NotifySocket {
        let socket = try NotifySocket()
        cleanups.append { socket.close() }
        setenv("NOTIFY_SOCKET", socket.address, 1)
        setenv("WATCHDOG_USEC", usec, 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        return socket
    }

    func testAMalformedWatchdogUsecIsLoggedNotSwallowed() throws {
        _ = try watchdogFor(usec: "soon")
        let petter = WatchdogPetter(logger: logger, mainWorker: "main loop")
        XCTAssertNil(petter.watchdog)
        XCTAssertEqual(store.records(containing: "WATCHDOG_USEC is malformed").map(\.level), [.warning])
        XCTAssertNil(petter.nextWake, "no pets without a watchdog")
    }

    func testPetsOnScheduleAndNeverAgainOnceAWorkerEnded() throws {
        let socket = try watchdogFor(usec: "2000000")
        let petter = WatchdogPetter(logger: logger, mainWorker: "main loop")
        XCTAssertEqual(petter.workerTick, 0.5, "a quarter of the interval")
        let start = MonotonicInstant.now()
        petter.petIfDue(now: start)
        XCTAssertEqual(try socket.receive(), "WATCHDOG=1")
        XCTAssertEqual(petter.nextWake, start + 1.0, "every half interval, on the monotonic clock")
        petter.petIfDue(now: start + 0.5)
        XCTAssertFalse(socket.hasPendingDatagram(), "not due yet")
        petter.workerEnded("keepalive")
        petter.petIfDue(now: start + 1.0)
        XCTAssertFalse(socket.hasPendingDatagram(), "a lost worker stops the pets")
        XCTAssertEqual(store.records(containing: "not petting the watchdog: keepalive").count, 1)
    }

    /// A loop that turns but falls behind its mailbox by more than half the
    /// interval gets no pet; once it catches up, pets resume.
    func testNoPetWhileTheLoopIsBehindItsMessages() throws {
        let socket = try watchdogFor(usec: "400000")
        let petter = WatchdogPetter(logger: logger, mainWorker: "main loop")
        var now = MonotonicInstant.now()
        petter.petIfDue(now: now, backlogSince: now + .milliseconds(-150))
        XCTAssertEqual(try socket.receive(), "WATCHDOG=1", "0.15 s behind is within half of 0.4 s")
        usleep(250_000)
        now = MonotonicInstant.now()
        petter.petIfDue(now: now, backlogSince: now + .milliseconds(-300))
        XCTAssertFalse(socket.hasPendingDatagram(), "0.3 s behind")
        XCTAssertEqual(store.records(containing: "not petting the watchdog: main loop (0.3 s behind its messages)").count, 1)
        usleep(250_000)
        petter.petIfDue(now: .now(), backlogSince: nil)
        XCTAssertEqual(try socket.receive(), "WATCHDOG=1", "caught up")
    }
}
