import Concurrency
@testable import DaemonKit
import Foundation
import XCTest

final class ProgressMonitorTests: XCTestCase {
    /// A clock the test moves by hand.
    private final class ManualClock: Sendable {
        private let current = Locked(MonotonicInstant(nanoseconds: 1_000_000_000))
        var now: MonotonicInstant { current.withLock { $0 } }
        func advance(_ duration: Duration) { current.withLock { $0 = $0 + duration } }
    }

    private func makeMonitor() -> (ProgressMonitor, ManualClock) {
        let clock = ManualClock()
        return (ProgressMonitor(clock: { clock.now }), clock)
    }

    func testWorkerWhoseLastBeatIsTooOldIsStalled() {
        let (monitor, clock) = makeMonitor()
        monitor.register("work loop")
        monitor.register("keepalive")
        monitor.register("config watch")
        clock.advance(.seconds(5))
        monitor.beat("keepalive")
        monitor.beat("config watch")
        clock.advance(.seconds(6))
        monitor.beat("config watch")
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), ["work loop"])
        clock.advance(.seconds(5))
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), ["keepalive", "work loop"])
        monitor.beat("work loop")
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), ["keepalive"])
    }

    func testBeatExactlyAtAllowanceIsNotStalled() {
        let (monitor, clock) = makeMonitor()
        monitor.register("work loop")
        clock.advance(.seconds(10))
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), [])
        clock.advance(.nanoseconds(1))
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), ["work loop"])
    }

    func testExplicitNow() {
        let (monitor, clock) = makeMonitor()
        monitor.register("work loop")
        let later = clock.now + .seconds(30)
        XCTAssertEqual(monitor.stalled(now: later, allowance: .seconds(10)), ["work loop"])
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), [])
        XCTAssertEqual(monitor.silence(of: "work loop", now: later), .seconds(30))
        XCTAssertNil(monitor.silence(of: "nobody"))
    }

    func testBeatRegistersAndUnregisterForgets() {
        let (monitor, clock) = makeMonitor()
        monitor.beat("keepalive")
        monitor.register("work loop")
        XCTAssertEqual(monitor.workers, ["keepalive", "work loop"])
        clock.advance(.seconds(60))
        monitor.unregister("work loop")
        XCTAssertEqual(monitor.workers, ["keepalive"])
        XCTAssertEqual(monitor.stalled(allowance: .seconds(10)), ["keepalive"])
    }

    func testNoWorkersMeansNothingStalled() {
        XCTAssertEqual(ProgressMonitor().stalled(allowance: .zero), [])
    }

    func testRealClockAndConcurrentBeats() {
        let monitor = ProgressMonitor()
        let names = (0..<8).map { "worker \($0)" }
        DispatchQueue.concurrentPerform(iterations: names.count) { index in
            for _ in 0..<1_000 { monitor.beat(names[index]) }
        }
        XCTAssertEqual(monitor.workers, names.sorted())
        XCTAssertEqual(monitor.stalled(allowance: .seconds(60)), [])
        XCTAssertEqual(monitor.stalled(now: .now() + .seconds(61), allowance: .seconds(60)), names.sorted())
    }

    func testMonotonicInstantArithmetic() {
        let start = MonotonicInstant(nanoseconds: 5_000_000_000)
        XCTAssertEqual(start + .milliseconds(1500), MonotonicInstant(nanoseconds: 6_500_000_000))
        XCTAssertEqual(start + .milliseconds(-1500), MonotonicInstant(nanoseconds: 3_500_000_000))
        XCTAssertEqual(start + .seconds(-10), MonotonicInstant(nanoseconds: 0))
        XCTAssertEqual(MonotonicInstant(nanoseconds: .max - 1) + .seconds(1), MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual((start + .seconds(2)) - start, .seconds(2))
        XCTAssertEqual(start - (start + .seconds(2)), .seconds(-2))
        XCTAssertEqual(MonotonicInstant(nanoseconds: 1_234_567).microseconds, 1_234)
        let first = MonotonicInstant.now()
        XCTAssertLessThanOrEqual(first, MonotonicInstant.now())
    }
}
