import Concurrency
import Foundation
import XCTest

/// The sliced wait every worker thread sleeps in.
final class StopSignalTests: XCTestCase {
    func testSlicedWaitBeatsAndEndsOnElapsedPokeOrStop() {
        let signal = StopSignal()
        var beats = 0
        XCTAssertEqual(signal.wait(0.25, slice: 0.05) { beats += 1 }, .elapsed)
        XCTAssertGreaterThanOrEqual(beats, 3, "a waiting thread shows it is alive")

        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { signal.poke() }
        let t0 = Date()
        XCTAssertEqual(signal.wait(5, slice: 1) {}, .poked)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1)

        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { signal.stop() }
        XCTAssertEqual(signal.wait(5, slice: 1) {}, .stopped)
        XCTAssertEqual(signal.wait(5, slice: 1) {}, .stopped, "stays stopped")
    }
}
