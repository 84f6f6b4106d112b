import Concurrency
import MonitorSettings

/// What a daemon supplies to the `Supervisor`: its state and the effects of its
/// events. Every method runs on the supervisor's thread, one at a time, so a
/// daemon owns its state without locks; its workers reach it only through the
/// mailbox (`WorkerGroup`). `now` is always on the monotonic clock.
public protocol Daemon: AnyObject {
    associatedtype Message: Sendable

    /// Starts the workers. Called once, before READY=1.
    func start(now: MonotonicInstant)
    /// One message a worker posted.
    func handle(_ message: Message, now: MonotonicInstant)
    /// The next moment the daemon wants `deadlineReached`; nil for none.
    var nextDeadline: MonotonicInstant? { get }
    /// Called once `nextDeadline` has passed.
    func deadlineReached(now: MonotonicInstant)
    /// SIGHUP with a valid settings file: apply what changed. The supervisor
    /// has sent RELOADING=1 and sends READY=1 after this returns.
    func reload(_ settings: Settings, now: MonotonicInstant)
    /// SIGTERM/SIGINT: stop the workers (in reverse start order, with a
    /// deadline) and leave cleanly. The supervisor has sent STOPPING=1.
    func stop()
    /// The one-line STATUS= the supervisor sends whenever it changes.
    var status: String { get }
}
