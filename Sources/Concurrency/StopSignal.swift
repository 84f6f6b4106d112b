/// A one-way "stop now" flag that sleeping threads can wait on.
///
/// Owns the flag, a count of pokes and the hooks to run on stop. `wait` sleeps
/// on a monotonic condition variable and returns early the moment `stop()` is
/// called, so backoff waits never delay shutdown, never spin, and are neither
/// stretched nor cut by a wall-clock step. Once stopped it stays stopped; the
/// object ends with its last reference.
public final class StopSignal: Sendable {
    private struct State: Sendable {
        var stopped = false
        // A counter, not a flag: each waiter compares with the value it saw on
        // entry, so one poke wakes every current waiter and no later one.
        var pokes = 0
        var hooks: [@Sendable () -> Void] = []
    }

    private let state = MonotonicCondition(State())

    public init() {}

    public var isStopped: Bool {
        state.withLock { $0.stopped }
    }

    /// Stops for good: wakes every waiter, then runs the `whenStopped` hooks
    /// once each, on this thread and outside the lock (a hook may block briefly
    /// or touch this signal).
    public func stop() {
        let hooks = state.withLock { state -> [@Sendable () -> Void] in
            state.stopped = true
            defer { state.hooks = [] }
            return state.hooks
        }
        state.broadcast()
        hooks.forEach { $0() }
    }

    /// Wakes every current `wait` early without stopping (e.g. "retry now").
    /// A poke with nobody waiting is not remembered by later waits.
    public func poke() {
        state.withLock { $0.pokes &+= 1 }
        state.broadcast()
    }

    /// Runs `hook` when stop() is called (at once, on this thread, if already
    /// stopped): used to cancel a blocked watch stream.
    public func whenStopped(_ hook: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.stopped { return true }
            state.hooks.append(hook)
            return false
        }
        if runNow { hook() }
    }

    public enum WaitOutcome: Sendable { case elapsed, poked, stopped }

    /// Sleeps up to `seconds` in slices of at most `slice`, calling `beat` between
    /// them (on this thread, without the lock): a thread waiting here is alive,
    /// not stuck, and the watchdog should see it so. Ends early on stop or poke;
    /// stop wins over a poke and over an elapsed deadline.
    public func wait(_ seconds: Double, slice: Double, beat: () -> Void) -> WaitOutcome {
        let deadline = MonotonicInstant.now() + max(0, seconds)
        let seen = state.withLock { $0.pokes }
        let decide = { (state: inout State) -> WaitOutcome? in
            if state.stopped { return .stopped }
            if state.pokes != seen { return .poked }
            return nil
        }
        while true {
            let now = MonotonicInstant.now()
            if now >= deadline { return state.withLock(decide) ?? .elapsed }
            // A non-positive slice would make every slice empty and spin; a
            // millisecond floor keeps the loop a sleep.
            let sliceEnd = min(deadline, now + max(slice, 0.001))
            if let outcome = state.wait(until: sliceEnd, decide) { return outcome }
            beat()
        }
    }

    /// Sleeps up to `seconds`; returns true if stopped (before or during the
    /// wait). A poke ends the wait early and returns false.
    @discardableResult
    public func wait(_ seconds: Double) -> Bool {
        let deadline = MonotonicInstant.now() + max(0, seconds)
        let seen = state.withLock { $0.pokes }
        let stopped = state.wait(until: deadline) { state -> Bool? in
            if state.stopped { return true }
            if state.pokes != seen { return false }
            return nil
        }
        return stopped ?? false
    }
}
