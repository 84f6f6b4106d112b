import Glibc

/// Everything that can happen to a daemon, as the supervisor's loop sees it.
/// Workers and the signal thread only ever post one of these; the loop alone
/// acts on them, so every change of a daemon's state starts from one `switch`.
/// A deadline is not posted: the loop wakes for it by itself (see `Supervisor`).
public enum SupervisorEvent<Message: Sendable>: Sendable {
    /// SIGHUP (reload), SIGTERM or SIGINT (stop).
    case signal(Int32)
    /// Something a worker thread observed (a watch update, a lease change...).
    case message(Message)
    /// A worker thread's body returned although nobody asked it to stop.
    case workerEnded(name: String)
}
