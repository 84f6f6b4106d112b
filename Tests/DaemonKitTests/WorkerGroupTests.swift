import Concurrency
@testable import DaemonKit
import XCTest

/// Workers post to the supervisor's mailbox, stop newest first within a
/// deadline, and an unexpected end is an event, never silence.
final class WorkerGroupTests: XCTestCase {
    private let mailbox = Mailbox<SupervisorEvent<String>>()
    private let progress = ProgressMonitor()

    func testAWorkerThatEndsByItselfIsReportedAndStaysStalled() throws {
        let group = WorkerGroup(mailbox: mailbox, progress: progress)
        group.start("short-lived", stop: {}) { group.post("hello") }
        guard case let .message(text)? = mailbox.next(timeout: 2) else { return XCTFail("no message") }
        XCTAssertEqual(text, "hello")
        guard case let .workerEnded(name)? = mailbox.next(timeout: 2) else { return XCTFail("no end reported") }
        XCTAssertEqual(name, "short-lived")
        XCTAssertTrue(progress.workers.contains("short-lived"), "still watched: the watchdog gate reports it stalled")
    }

    func testStopAllStopsNewestFirstAndReportsNoEnd() {
        let group = WorkerGroup(mailbox: mailbox, progress: progress)
        let order = Locked<[String]>([])
        for name in ["first", "second", "third"] {
            let stop = StopSignal()
            group.start(name, stop: { order.withLock { $0.append(name) }; stop.stop() }) { stop.wait(10) }
        }
        let late = group.stopAll(deadline: .now() + 2)
        XCTAssertEqual(late, [])
        XCTAssertEqual(order.withLock { $0 }, ["third", "second", "first"])
        XCTAssertNil(mailbox.next(timeout: 0.1), "an asked-for end is not an event")
        XCTAssertEqual(progress.workers, [], "stopped workers are no longer watched")
    }

    func testStopAllGivesUpOnAWorkerAtTheDeadline() {
        let group = WorkerGroup(mailbox: mailbox, progress: progress)
        let release = StopSignal()
        group.start("stuck", stop: {}) { release.wait(10) }
        let started = MonotonicInstant.now()
        XCTAssertEqual(group.stopAll(deadline: .now() + 0.2), ["stuck"])
        let waited = MonotonicInstant.now().secondsSince(started)
        XCTAssertLessThan(waited, 1.5, "bounded by the deadline (waited \(waited) s)")
        release.stop()
    }
}
