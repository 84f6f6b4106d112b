/// The queue through which threads post immutable values to the one loop that
/// owns the state.
///
/// Owns the backlog of messages not yet taken, each with the monotonic instant
/// it was posted (so the owner can tell how far behind it is). Any thread may `post`; the
/// owning loop takes them in posting order with `next`, which sleeps on a
/// monotonic condition variable: the loop wakes only for a message or its own
/// deadline, never to poll, and a wall-clock step neither stretches nor cuts
/// its wait. Ends with its last reference; messages still queued then are
/// dropped with it.
///
/// Messages must be `Sendable` because they cross from the posting thread to
/// the owning one.
public final class Mailbox<Message: Sendable>: Sendable {
    private let backlog = MonotonicCondition(FIFOQueue<(message: Message, posted: MonotonicInstant)>())

    public init() {}

    /// Appends `message` and wakes one waiting reader. Never blocks beyond the
    /// short critical section.
    public func post(_ message: Message) {
        let now = MonotonicInstant.now()
        backlog.withLock { $0.append((message, now)) }
        // One message can satisfy at most one reader.
        backlog.signal()
    }

    /// The oldest message, waiting up to `timeout` seconds (relative, measured
    /// on the monotonic clock); nil on timeout. A timeout of zero or less only
    /// looks.
    public func next(timeout: Double) -> Message? {
        next(until: MonotonicInstant.now() + max(0, timeout))
    }

    /// The oldest message, waiting until `deadline`; nil if it passes first (at
    /// once if it already has and nothing is queued). A nil deadline waits
    /// until a message arrives.
    public func next(until deadline: MonotonicInstant?) -> Message? {
        backlog.wait(until: deadline) { $0.popFirst()?.message }
    }

    /// When the oldest message still waiting was posted; nil when none waits.
    /// How far the owning loop is behind its producers (the watchdog's rule).
    public var oldestPosted: MonotonicInstant? {
        backlog.withLock { $0.first?.posted }
    }
}
