import Concurrency
import XCTest

final class MonotonicInstantTests: XCTestCase {
    func testDurationArithmetic() {
        let start = MonotonicInstant(nanoseconds: 5_000_000_000)
        XCTAssertEqual(start + .milliseconds(1500), MonotonicInstant(nanoseconds: 6_500_000_000))
        XCTAssertEqual(start + .seconds(-10), MonotonicInstant(nanoseconds: 0))
        XCTAssertEqual(MonotonicInstant(nanoseconds: .max - 1) + .seconds(1), MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual((start + .milliseconds(250)) - start, .milliseconds(250))
        XCTAssertEqual(start - (start + .milliseconds(250)), .milliseconds(-250))
    }

    func testSecondsHelpers() {
        let start = MonotonicInstant(nanoseconds: 5_000_000_000)
        XCTAssertEqual(start.seconds, 5.0)
        XCTAssertEqual(start + 1.5, MonotonicInstant(nanoseconds: 6_500_000_000))
        XCTAssertEqual(start + (-1.5), MonotonicInstant(nanoseconds: 3_500_000_000))
        XCTAssertEqual(start + (-10.0), MonotonicInstant(nanoseconds: 0))
        XCTAssertEqual(start + Double.infinity, MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual(start + Double.nan, start)
        XCTAssertEqual((start + 0.25).secondsSince(start), 0.25)
        XCTAssertEqual(start.secondsSince(start + 0.25), -0.25)
        // Late in a long uptime the difference keeps nanosecond precision.
        let late = MonotonicInstant(nanoseconds: 400 * 86_400 * 1_000_000_000)
        XCTAssertEqual(MonotonicInstant(nanoseconds: late.nanoseconds + 1).secondsSince(late), 1e-9)
    }

    func testNowMovesForward() {
        let first = MonotonicInstant.now()
        sleep(seconds: 0.01)
        let second = MonotonicInstant.now()
        XCTAssertGreaterThanOrEqual(second.secondsSince(first), 0.009)
        XCTAssertEqual(MonotonicInstant(nanoseconds: 1_234_567).microseconds, 1_234)
    }
}
