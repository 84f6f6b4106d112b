import Concurrency
import XCTest

final class StopSignalTests: XCTestCase {
    func testStopWakesAWaiterWithinMilliseconds() {
        let signal = StopSignal()
        let stopper = after(0.05) { signal.stop() }
        let (stopped, seconds) = timed { signal.wait(10) }
        XCTAssertTrue(stopped)
        XCTAssertGreaterThanOrEqual(seconds, 0.04)
        XCTAssertLessThan(seconds, 0.3, "woken by stop, \(seconds) s")
        XCTAssertTrue(stopper.join(timeout: 2))
        XCTAssertTrue(signal.isStopped)
        XCTAssertTrue(signal.wait(10), "stays stopped: returns at once")
    }

    func testStopEndsASlicedWaitOnAnotherThread() {
        let signal = StopSignal()
        let outcome = Locked<StopSignal.WaitOutcome?>(nil)
        let waiter = WorkerThread(name: "waiter") {
            let result = signal.wait(30, slice: 5) {}
            outcome.withLock { $0 = result }
        }
        waiter.start()
        sleep(seconds: 0.05)
        let (joined, seconds) = timed { () -> Bool in
            signal.stop()
            return waiter.join(timeout: 2)
        }
        XCTAssertTrue(joined)
        XCTAssertLessThan(seconds, 0.3)
        XCTAssertEqual(outcome.withLock { $0 }, .stopped)
    }

    func testPokeEndsTheWaitWithPoked() {
        let signal = StopSignal()
        let poker = after(0.05) { signal.poke() }
        let (outcome, seconds) = timed { signal.wait(10, slice: 1) {} }
        XCTAssertEqual(outcome, .poked)
        XCTAssertLessThan(seconds, 0.5)
        XCTAssertFalse(signal.isStopped, "a poke does not stop")
        XCTAssertTrue(poker.join(timeout: 2))

        let poker2 = after(0.05) { signal.poke() }
        XCTAssertFalse(signal.wait(10), "the simple wait ends on a poke too, reporting not stopped")
        XCTAssertTrue(poker2.join(timeout: 2))

        let (late, lateSeconds) = timed { signal.wait(0.1, slice: 1) {} }
        XCTAssertEqual(late, .elapsed, "earlier pokes are not remembered")
        XCTAssertGreaterThanOrEqual(lateSeconds, 0.09)
    }

    func testBeatIsCalledBetweenSlices() {
        let signal = StopSignal()
        var beats: [MonotonicInstant] = []
        let start = MonotonicInstant.now()
        XCTAssertEqual(signal.wait(0.25, slice: 0.05) { beats.append(.now()) }, .elapsed)
        let total = MonotonicInstant.now().secondsSince(start)
        XCTAssertGreaterThanOrEqual(total, 0.24)
        XCTAssertGreaterThanOrEqual(beats.count, 3, "a waiting thread shows it is alive")
        XCTAssertLessThanOrEqual(beats.count, 6, "one beat per slice, no spinning")
        if let first = beats.first {
            XCTAssertGreaterThanOrEqual(first.secondsSince(start), 0.04, "the first beat comes after a slice")
        }
    }

    func testStopWinsAndHooksRunOnce() {
        let signal = StopSignal()
        let calls = Locked(0)
        signal.whenStopped { calls.withLock { $0 += 1 } }
        XCTAssertEqual(calls.withLock { $0 }, 0)
        signal.stop()
        signal.stop()
        XCTAssertEqual(calls.withLock { $0 }, 1, "hooks run once, on the first stop")
        signal.whenStopped { calls.withLock { $0 += 10 } }
        XCTAssertEqual(calls.withLock { $0 }, 11, "a hook added after stop runs at once")
        XCTAssertEqual(signal.wait(0, slice: 1) {}, .stopped)
        signal.poke()
        XCTAssertEqual(signal.wait(5, slice: 1) {}, .stopped, "stop wins over a poke")
    }
}
