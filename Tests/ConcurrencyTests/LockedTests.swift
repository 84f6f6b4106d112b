import Concurrency
import XCTest

final class LockedTests: XCTestCase {
    func testContendedIncrementsGiveTheExactCount() {
        let counter = Locked(0)
        // More threads than the 2 cores, but not so many that Mutex's contention
        // slowdown on Linux (see Locked) makes the test slow.
        let threads = 4
        let increments = 25_000
        let workers = (0..<threads).map { i in
            WorkerThread(name: "incrementer-\(i)") {
                for _ in 0..<increments { counter.withLock { $0 += 1 } }
            }
        }
        workers.forEach { $0.start() }
        for worker in workers { XCTAssertTrue(worker.join(timeout: 30)) }
        XCTAssertEqual(counter.withLock { $0 }, threads * increments)
    }

    struct Refused: Error {}

    func testBodyResultAndErrorPassThrough() {
        let names = Locked<[String]>(["a"])
        XCTAssertEqual(names.withLock { $0.append("b"); return $0.count }, 2)
        XCTAssertThrowsError(try names.withLock { (_: inout [String]) throws(Refused) -> Void in throw Refused() })
        XCTAssertEqual(names.withLock { $0 }, ["a", "b"], "the lock is released after a throw")
    }
}
