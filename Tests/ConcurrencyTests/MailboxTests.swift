@testable import Concurrency
import XCTest

final class MailboxTests: XCTestCase {
    struct Stamp: Sendable, Equatable {
        let producer: Int
        let sequence: Int
    }

    /// Each producer's messages arrive in the order it posted them, and none is
    /// lost or duplicated, with many producers posting at once.
    func testFIFOOrderPerProducerWithManyProducers() {
        let mailbox = Mailbox<Stamp>()
        let producers = 8
        let perProducer = 5_000
        let threads = (0..<producers).map { producer in
            WorkerThread(name: "producer-\(producer)") {
                for sequence in 0..<perProducer { mailbox.post(Stamp(producer: producer, sequence: sequence)) }
            }
        }
        threads.forEach { $0.start() }

        var nextExpected = [Int](repeating: 0, count: producers)
        for _ in 0..<(producers * perProducer) {
            guard let stamp = mailbox.next(timeout: 5) else {
                return XCTFail("mailbox ran dry after \(nextExpected.reduce(0, +)) messages")
            }
            XCTAssertEqual(stamp.sequence, nextExpected[stamp.producer], "producer \(stamp.producer) out of order")
            nextExpected[stamp.producer] = stamp.sequence + 1
        }
        XCTAssertEqual(nextExpected, [Int](repeating: perProducer, count: producers))
        XCTAssertNil(mailbox.next(timeout: 0), "nothing extra")
        for thread in threads { XCTAssertTrue(thread.join(timeout: 5)) }
    }

    /// One producer, interleaved posts and takes: exact global order.
    /// The oldest waiting message's posting time: what the watchdog judges the loop by.
    func testOldestPostedIsTheHeadsPostingTime() {
        let mailbox = Mailbox<Int>()
        XCTAssertNil(mailbox.oldestPosted)
        let before = MonotonicInstant.now()
        mailbox.post(1)
        let between = MonotonicInstant.now()
        mailbox.post(2)
        let first = try? XCTUnwrap(mailbox.oldestPosted)
        XCTAssertTrue(first.map { $0 >= before && $0 <= between } == true)
        XCTAssertEqual(mailbox.next(timeout: 0), 1)
        XCTAssertTrue(mailbox.oldestPosted.map { $0 >= between } == true, "now the second one's")
        XCTAssertEqual(mailbox.next(timeout: 0), 2)
        XCTAssertNil(mailbox.oldestPosted)
    }

    func testExactOrderFromOneProducer() {
        let mailbox = Mailbox<Int>()
        var taken: [Int] = []
        for i in 0..<3_000 {
            mailbox.post(i)
            if i % 3 == 0, let m = mailbox.next(timeout: 0) { taken.append(m) }
        }
        while let m = mailbox.next(timeout: 0) { taken.append(m) }
        XCTAssertEqual(taken, Array(0..<3_000))
    }

    /// The timeout is honoured: nil after roughly the asked time, not much
    /// later, and the thread sleeps meanwhile. The CPU-time bound is what
    /// catches a condition variable left on CLOCK_REALTIME: given monotonic
    /// deadlines (dates in 1970 to it) every timed wait would return at once and
    /// the wait loop would spin until the deadline instead of sleeping.
    func testTimeoutReturnsNilAfterRoughlyTheTimeoutWithoutSpinning() {
        let mailbox = Mailbox<Int>()
        let cpuBefore = threadCPUSeconds()
        let (message, seconds) = timed { mailbox.next(timeout: 0.2) }
        let cpu = threadCPUSeconds() - cpuBefore
        XCTAssertNil(message)
        XCTAssertGreaterThanOrEqual(seconds, 0.19)
        XCTAssertLessThan(seconds, 1.5)
        XCTAssertLessThan(cpu, 0.05, "the waiting thread burned \(cpu) s of CPU: spinning, not sleeping")
    }

    func testPastDeadlineReturnsAtOnce() {
        let mailbox = Mailbox<Int>()
        let past = MonotonicInstant.now() + (-1.0)
        let (message, seconds) = timed { mailbox.next(until: past) }
        XCTAssertNil(message)
        XCTAssertLessThan(seconds, 0.05)

        mailbox.post(7)
        XCTAssertEqual(mailbox.next(until: past), 7, "a queued message is returned even past the deadline")
        XCTAssertNil(mailbox.next(timeout: -3), "a negative timeout only looks")
    }

    func testWaitWithoutDeadlineReturnsThePostedMessage() {
        let mailbox = Mailbox<String>()
        let poster = after(0.05) { mailbox.post("hello") }
        let (message, seconds) = timed { mailbox.next(until: nil) }
        XCTAssertEqual(message, "hello")
        XCTAssertGreaterThanOrEqual(seconds, 0.04)
        XCTAssertTrue(poster.join(timeout: 2))
    }

    func testInfiniteTimeoutWaitsForTheMessage() {
        let mailbox = Mailbox<Int>()
        let poster = after(0.05) { mailbox.post(3) }
        XCTAssertEqual(mailbox.next(timeout: .infinity), 3)
        XCTAssertTrue(poster.join(timeout: 2))
    }

    func testPostWakesAWaitingReaderPromptly() {
        let mailbox = Mailbox<Int>()
        let poster = after(0.05) { mailbox.post(1) }
        let (message, seconds) = timed { mailbox.next(timeout: 10) }
        XCTAssertEqual(message, 1)
        XCTAssertLessThan(seconds, 1, "woken by the post, not by the 10 s timeout")
        XCTAssertTrue(poster.join(timeout: 2))
    }

    /// 100,000 queued messages drain in well under a second: taking the oldest
    /// is O(1). With Array.removeFirst this is about 5e9 element moves.
    func testHundredThousandMessagesDrainFast() {
        let mailbox = Mailbox<Int>()
        let count = 100_000
        for i in 0..<count { mailbox.post(i) }
        let (inOrder, seconds) = timed { () -> Bool in
            var ok = true
            for i in 0..<count where mailbox.next(timeout: 0) != i { ok = false }
            return ok
        }
        XCTAssertTrue(inOrder)
        XCTAssertNil(mailbox.next(timeout: 0))
        XCTAssertLessThan(seconds, 1.0, "draining took \(seconds) s")
    }

    /// The queue under the mailbox, across compactions and refills.
    func testFIFOQueueAcrossCompaction() {
        var queue = FIFOQueue<Int>()
        var expected = 0
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round * 97 % 3_000 + 1) { queue.append(next); next += 1 }
            for _ in 0..<(round * 61 % 2_500) {
                guard let value = queue.popFirst() else { break }
                XCTAssertEqual(value, expected)
                expected += 1
            }
            XCTAssertEqual(queue.count, next - expected)
        }
        while let value = queue.popFirst() { XCTAssertEqual(value, expected); expected += 1 }
        XCTAssertEqual(expected, next)
        XCTAssertTrue(queue.isEmpty)
    }
}
