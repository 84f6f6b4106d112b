import Concurrency
@testable import DaemonKit
import Logging
import MonitorSettings
import XCTest

/// The one loop: messages and deadlines reach the daemon on the supervisor's
/// thread, and a worker that ends by itself stops the daemon with exit 70
/// when no watchdog would restart it (this test process has none).
final class SupervisorTests: XCTestCase {
    final class FakeDaemon: Daemon {
        typealias Message = Int
        let context: DaemonContext<Int>
        var workers: WorkerGroup<Int>?
        var handled: [Int] = []
        var deadlines = 0
        var stopped = false
        var nextDeadline: MonotonicInstant?
        /// The worker ends once the third deadline has been handled.
        let thirdDeadline = StopSignal()

        init(context: DaemonContext<Int>) { self.context = context }

        func start(now: MonotonicInstant) {
            nextDeadline = now + 0.02
            let group = context.makeWorkers()
            let third = thirdDeadline
            group.start("poster", stop: {}) {
                group.post(1)
                group.post(2)
                third.wait(10)
            }
            workers = group
        }

        func handle(_ message: Int, now: MonotonicInstant) { handled.append(message) }

        func deadlineReached(now: MonotonicInstant) {
            deadlines += 1
            nextDeadline = deadlines < 3 ? now + 0.02 : nil
            if deadlines == 3 { thirdDeadline.stop() }
        }

        func reload(_ settings: Settings, now: MonotonicInstant) {}
        func stop() { stopped = true }
        var status: String { "handled \(handled.count)" }
    }

    func testMessagesAndDeadlinesReachTheDaemonAndALostWorkerEndsTheRun() {
        var daemon: FakeDaemon?
        let supervisor = Supervisor<FakeDaemon>(logger: Logger(label: "test"), mainWorker: "main loop",
                                                settingsPath: "/nonexistent", settingsRequired: false, program: .agent) {
            let made = FakeDaemon(context: $0)
            daemon = made
            return made
        }
        // Two messages, three deadlines 20 ms apart, then the worker ends by itself.
        let code = supervisor.run()
        XCTAssertEqual(code, Supervisor<FakeDaemon>.workerLostExitCode)
        XCTAssertEqual(daemon?.handled, [1, 2])
        XCTAssertEqual(daemon?.stopped, true, "a clean stop on the way out")
        XCTAssertEqual(daemon?.deadlines, 3)
    }

    /// A daemon whose worker floods the mailbox; a stop must not wait for the flood.
    final class FloodedDaemon: Daemon {
        typealias Message = Int
        let context: DaemonContext<Int>
        var handled = 0
        var stopped = false
        let nextDeadline: MonotonicInstant? = nil
        var onStart: (@Sendable (WorkerGroup<Int>) -> Void)?
        /// The first message is handled only once the flood and the signal are posted.
        let allPosted = StopSignal()

        init(context: DaemonContext<Int>) { self.context = context }

        func start(now: MonotonicInstant) {
            let group = context.makeWorkers()
            let flood = onStart
            group.start("flood", stop: {}) { flood?(group) }
        }

        func handle(_ message: Int, now: MonotonicInstant) {
            if handled == 0 { allPosted.wait(5) }
            handled += 1
        }
        func deadlineReached(now: MonotonicInstant) {}
        func reload(_ settings: Settings, now: MonotonicInstant) {}
        func stop() { stopped = true }
        var status: String { "flooded" }
    }

    func testASignalIsHandledBeforeABacklogOfMessages() {
        var daemon: FloodedDaemon?
        let supervisor = Supervisor<FloodedDaemon>(logger: Logger(label: "test"), mainWorker: "main loop",
                                                   settingsPath: "/nonexistent", settingsRequired: false, program: .agent) {
            let made = FloodedDaemon(context: $0)
            daemon = made
            return made
        }
        let backlog = 200_000
        // Unchecked: the worker only calls `deliver`, which touches Sendable state.
        nonisolated(unsafe) let target = supervisor
        let allPosted = daemon!.allPosted
        daemon?.onStart = { group in
            for i in 0..<backlog { group.post(i) }
            target.deliver(signal: SIGTERM)
            allPosted.stop()
            StopSignal().wait(5) // stay alive: an ended worker would be an event too
        }
        XCTAssertEqual(supervisor.run(), 0, "SIGTERM: a clean exit")
        XCTAssertEqual(daemon?.stopped, true)
        XCTAssertEqual(daemon?.handled, 1, "the stop came right after the message in hand, not after \(backlog - 1) more")
    }
}
