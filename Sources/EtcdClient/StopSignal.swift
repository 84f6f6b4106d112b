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
