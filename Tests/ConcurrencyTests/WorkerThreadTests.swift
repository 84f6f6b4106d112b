@testable import Concurrency
import Glibc
import XCTest

final class WorkerThreadTests: XCTestCase {
    enum Event: Sendable, Equatable { case workerEnded(String) }

    func testOnExitRunsAfterTheBodyAndJoinReturnsTrue() {
        let supervisor = Mailbox<Event>()
        let order = Locked<[String]>([])
        let thread = WorkerThread(name: "short job", onExit: {
            order.withLock { $0.append("onExit") }
            supervisor.post(.workerEnded("short job"))
        }) {
            sleep(seconds: 0.02)
            order.withLock { $0.append("body") }
        }
        XCTAssertTrue(thread.start())
        XCTAssertEqual(supervisor.next(timeout: 5), .workerEnded("short job"))
        XCTAssertTrue(thread.join(timeout: 5))
        XCTAssertEqual(order.withLock { $0 }, ["body", "onExit"])
        XCTAssertTrue(thread.join(timeout: 0), "joining again still reports the end")
        XCTAssertFalse(thread.start(), "a thread runs once")
    }

    func testJoinTimesOutForABlockedBody() {
        let release = StopSignal()
        let thread = WorkerThread(name: "blocked") { release.wait(60) }
        thread.start()
        let (joined, seconds) = timed { thread.join(timeout: 0.2) }
        XCTAssertFalse(joined)
        XCTAssertGreaterThanOrEqual(seconds, 0.19)
        XCTAssertLessThan(seconds, 1.5)
        release.stop()
        XCTAssertTrue(thread.join(timeout: 5), "ends once its body may return")
    }

    func testJoinBeforeStartTimesOut() {
        let thread = WorkerThread(name: "never started") {}
        XCTAssertFalse(thread.join(timeout: 0.05))
    }

    func testThreadIsNamedTruncatedToFifteenBytes() {
        let seen = Locked<String?>(nil)
        let thread = WorkerThread(name: "a rather long worker name") {
            seen.withLock { $0 = Self.currentThreadName() }
        }
        thread.start()
        XCTAssertTrue(thread.join(timeout: 5))
        XCTAssertEqual(seen.withLock { $0 }, "a rather long w")
        XCTAssertEqual(thread.name, "a rather long worker name", "the full name is kept for logs")
    }

    func testNameTruncationKeepsWholeCharacters() {
        XCTAssertEqual(WorkerThread.threadName("heartbeat watch"), "heartbeat watch")
        XCTAssertEqual(WorkerThread.threadName("heartbeat watcher"), "heartbeat watch")
        // Eight two-byte letters: only seven fit, never a half.
        XCTAssertEqual(WorkerThread.threadName("éééééééé"), "ééééééé")
    }

    func testDroppedHandleStillRunsToTheEnd() {
        let ended = Mailbox<Bool>()
        do {
            let thread = WorkerThread(name: "orphan", onExit: { ended.post(true) }) { sleep(seconds: 0.05) }
            thread.start()
        }
        XCTAssertEqual(ended.next(timeout: 5), true)
    }

    /// The calling thread's name as the kernel has it.
    private static func currentThreadName() -> String? {
        let fd = open("/proc/thread-self/comm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        var bytes = buffer[0..<n]
        if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
