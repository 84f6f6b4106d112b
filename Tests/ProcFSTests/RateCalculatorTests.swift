@testable import ProcFS
import XCTest

/// Counter resets, wraps and devices coming and going: pure rate logic.
final class RateCalculatorTests: XCTestCase {
    func testCounterDelta() {
        XCTAssertEqual(CounterDelta.between(100, 150), 50)
        XCTAssertEqual(CounterDelta.between(100, 100), 0)
        // Backwards (reset, wrap, reboot): worth nothing this interval, never negative.
        XCTAssertEqual(CounterDelta.between(150, 100), 0)
        XCTAssertEqual(CounterDelta.between(UInt64(UInt32.max) - 10, 5), 0)
        XCTAssertEqual(CounterDelta.between(0, .max), .max)
    }

    func testRateIsSumOfPerDeviceDeltasOverTime() {
        let previous = CounterSnapshot(time: 10, counters: ["sda": 1000, "sdb": 5000])
        let current = CounterSnapshot(time: 12, counters: ["sda": 3000, "sdb": 9000])
        XCTAssertEqual(RateCalculator.perSecond(from: previous, to: current), 3000)
    }

    func testBackwardsDeviceCountsZeroOthersStillCount() {
        let previous = CounterSnapshot(time: 0, counters: ["sda": 1_000_000, "sdb": 100])
        let current = CounterSnapshot(time: 1, counters: ["sda": 10, "sdb": 600])
        XCTAssertEqual(RateCalculator.perSecond(from: previous, to: current), 500)
    }

    func testRemovedDeviceDoesNotMakeTheSumGoBackwards() {
        let previous = CounterSnapshot(time: 0, counters: ["sda": 100, "sdb": 1_000_000_000])
        let current = CounterSnapshot(time: 4, counters: ["sda": 500])
        XCTAssertEqual(RateCalculator.perSecond(from: previous, to: current), 100)
    }

    func testNewDeviceContributesFromTheNextInterval() {
        let first = CounterSnapshot(time: 0, counters: ["eth0": 100])
        let second = CounterSnapshot(time: 1, counters: ["eth0": 200, "veth1": 9_000_000_000])
        let third = CounterSnapshot(time: 2, counters: ["eth0": 300, "veth1": 9_000_000_050])
        XCTAssertEqual(RateCalculator.perSecond(from: first, to: second), 100)
        XCTAssertEqual(RateCalculator.perSecond(from: second, to: third), 150)
    }

    func testNoElapsedTimeGivesZero() {
        let previous = CounterSnapshot(time: 5, counters: ["sda": 0])
        let current = CounterSnapshot(time: 5, counters: ["sda": 512])
        XCTAssertEqual(RateCalculator.perSecond(from: previous, to: current), 0)
        XCTAssertEqual(RateCalculator.perSecond(from: current, to: CounterSnapshot(time: 4, counters: ["sda": 1024])), 0)
    }

    func testHugeDeltasDoNotTrap() {
        let previous = CounterSnapshot(time: 0, counters: ["a": 0, "b": 0])
        let current = CounterSnapshot(time: 1, counters: ["a": .max, "b": .max])
        XCTAssertEqual(RateCalculator.perSecond(from: previous, to: current), 2 * Double(UInt64.max))
    }

    func testCPUBusyPercent() {
        let previous = CPUStat(user: 100, system: 50, idle: 800, iowait: 50)
        let current = CPUStat(user: 130, system: 60, idle: 850, iowait: 60)
        // busy +40, idle+iowait +60.
        XCTAssertEqual(current.busyPercent(since: previous), 40, accuracy: 1e-9)
        XCTAssertEqual(current.busyPercent(since: current), 0)
    }

    func testCPUBusyPercentWithBackwardsCountersStaysInRange() {
        let previous = CPUStat(user: 100, idle: 800, iowait: 500)
        // iowait dipped (NO_HZ accounting) more than idle rose: idle side counts 0.
        let dip = CPUStat(user: 150, idle: 810, iowait: 400)
        XCTAssertEqual(dip.busyPercent(since: previous), 100)
        // Everything went backwards (counters restarted): 0, not negative.
        let restart = CPUStat(user: 1, idle: 2)
        XCTAssertEqual(restart.busyPercent(since: previous), 0)
        // Garbage near the top of the range: still within 0...100.
        let huge = CPUStat(user: .max, nice: .max, idle: .max)
        let percent = huge.busyPercent(since: previous)
        XCTAssertTrue((0...100).contains(percent), "\(percent)")
    }
}
