import Concurrency

/// The dedicated threads of one part of a daemon (one registration of the
/// agent, the server's watch), started in order and stopped in reverse order.
///
/// Owns its `WorkerThread`s and their stop actions. Each worker is registered
/// with the `ProgressMonitor` (the watchdog gate) while it runs. A worker whose
/// body returns before `stopAll` asked it to is reported to the supervisor as
/// `.workerEnded`: a thread that silently disappeared must not leave a daemon
/// that looks healthy. Ends with `stopAll`; a group is not restarted.
public final class WorkerGroup<Message: Sendable>: Sendable {
    private struct Worker {
        let thread: WorkerThread
        let stop: @Sendable () -> Void
    }

    private let mailbox: Mailbox<SupervisorEvent<Message>>
    private let progress: ProgressMonitor
    private let workers = Locked<[Worker]>([])
    /// Set by `stopAll` before any stop action runs: ends after it are expected.
    private let stopping = Locked(false)

    public init(mailbox: Mailbox<SupervisorEvent<Message>>, progress: ProgressMonitor) {
        self.mailbox = mailbox
        self.progress = progress
    }

    /// Posts a worker's message to the supervisor.
    public func post(_ message: Message) { mailbox.post(.message(message)) }

    /// Records progress of `name` for the watchdog gate.
    public func beat(_ name: String) { progress.beat(name) }

    /// Starts `body` on a thread named `name`; `stop` must make `body` return
    /// soon (a stop signal, a cancelled stream) and must not block.
    public func start(_ name: String, stop: @escaping @Sendable () -> Void, body: @escaping @Sendable () -> Void) {
        progress.register(name)
        let thread = WorkerThread(name: name, onExit: { [mailbox, progress, stopping] in
            if stopping.withLock({ $0 }) {
                progress.unregister(name)
            } else {
                // Not unregistered: the progress monitor keeps reporting it stalled.
                mailbox.post(.workerEnded(name: name))
            }
        }, body: body)
        workers.withLock { $0.append(Worker(thread: thread, stop: stop)) }
        thread.start()
    }

    /// Asks every worker to stop, newest first, and waits for each until
    /// `deadline` (monotonic). Returns the names of workers still running then
    /// (they are abandoned: the process may end without them).
    @discardableResult
    public func stopAll(deadline: MonotonicInstant) -> [String] {
        stopping.withLock { $0 = true }
        let all = workers.withLock { $0 }
        for worker in all.reversed() { worker.stop() }
        var late: [String] = []
        for worker in all.reversed() {
            let left = max(0, deadline.secondsSince(MonotonicInstant.now()))
            if !worker.thread.join(timeout: left) { late.append(worker.thread.name) }
        }
        return late
    }
}
