import Foundation

/// A one-way "stop now" flag that sleeping threads can wait on: `wait(_:)` sleeps
/// on a condition variable and returns early the moment `stop()` is called, so
/// backoff waits never delay shutdown and never spin.
public final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var pokes = 0
    private var onStop: [() -> Void] = []

    public init() {}

    public var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    public func stop() {
        condition.lock()
        stopped = true
        let hooks = onStop
        onStop = []
        condition.broadcast()
        condition.unlock()
        hooks.forEach { $0() }
    }

    /// Wakes a current `wait` early without stopping (e.g. "retry now").
    public func poke() {
        condition.lock()
        pokes += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `hook` when stop() is called (at once if already stopped): used to
    /// cancel a blocked watch stream.
    public func whenStopped(_ hook: @escaping () -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            hook()
            return
        }
        onStop.append(hook)
        condition.unlock()
    }

    public enum WaitOutcome: Sendable { case elapsed, poked, stopped }

    /// Sleeps up to `seconds` in slices of at most `slice`, calling `beat` between
    /// them (without the lock): a thread waiting here is alive, not stuck, and the
    /// watchdog should see it so. Ends early on stop or poke.
    public func wait(_ seconds: Double, slice: Double, beat: () -> Void) -> WaitOutcome {
        let deadline = Date().addingTimeInterval(max(0, seconds))
        condition.lock()
        let seen = pokes
        while true {
            if stopped { condition.unlock(); return .stopped }
            if pokes != seen { condition.unlock(); return .poked }
            let now = Date()
            if now >= deadline { condition.unlock(); return .elapsed }
            let sliceEnd = min(deadline, now.addingTimeInterval(slice))
            if !condition.wait(until: sliceEnd) {
                condition.unlock()
                beat()
                condition.lock()
            }
        }
    }

    /// Sleeps up to `seconds`; returns true if stopped (before or during the wait).
    @discardableResult
    public func wait(_ seconds: Double) -> Bool {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(max(0, seconds))
        let seen = pokes
        while !stopped && pokes == seen {
            if !condition.wait(until: deadline) { break }
        }
        return stopped
    }
}
