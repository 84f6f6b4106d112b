import Glibc

/// State guarded by a pthread mutex, plus a condition variable whose timed
/// waits are measured on `CLOCK_MONOTONIC`: the machinery under `Mailbox`,
/// `StopSignal` and `WorkerThread.join`.
///
/// Why not `Locked`: a condition variable must wait on a pthread mutex, and
/// `Synchronization.Mutex` does not expose one. Why not the default condition
/// clock: it is `CLOCK_REALTIME`, so a `date -s` backwards would prolong a
/// timed wait by the size of the step and a step forwards would cut it short.
/// With `pthread_condattr_setclock(CLOCK_MONOTONIC)` an absolute deadline is
/// a `MonotonicInstant`, immune to both.
///
/// Owns one heap-allocated `pthread_mutex_t`, one heap-allocated
/// `pthread_cond_t` and the state. Ends with its last reference: both pthread
/// objects are destroyed in `deinit` (no thread can be waiting then, since a
/// waiter holds a reference).
///
/// `@unchecked Sendable` is unavoidable here (raw pthread objects, a `var`
/// state). What makes it safe: `state` is read and written only between
/// `pthread_mutex_lock` and `pthread_mutex_unlock` on `mutex`; the pointers
/// never leave this class; and `State` is `Sendable`, so a value copied out of
/// the lock may be used on any thread.
final class MonotonicCondition<State: Sendable>: @unchecked Sendable {
    private var state: State
    // Heap-allocated because pthread objects must not move in memory, which a
    // Swift stored property is allowed to do.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init(_ initial: State) {
        state = initial
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // Only fails for lack of memory or a bad attribute; nothing to recover.
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")

        let attributes = UnsafeMutablePointer<pthread_condattr_t>.allocate(capacity: 1)
        attributes.initialize(to: pthread_condattr_t())
        defer {
            pthread_condattr_destroy(attributes)
            attributes.deinitialize(count: 1)
            attributes.deallocate()
        }
        pthread_condattr_init(attributes)
        // Must succeed: a condition silently left on CLOCK_REALTIME would take
        // monotonic deadlines as dates in 1970 and never sleep at all.
        precondition(pthread_condattr_setclock(attributes, CLOCK_MONOTONIC) == 0,
                     "pthread_condattr_setclock(CLOCK_MONOTONIC) failed")
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        precondition(pthread_cond_init(condition, attributes) == 0, "pthread_cond_init failed")
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state. Wakes nobody: call
    /// `signal()` or `broadcast()` after a change that a waiter may be waiting
    /// for. Calling them after unlocking is correct: a waiter either saw the
    /// change while it held the lock, or was already asleep and gets the wake-up.
    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Wakes one waiter (enough when each change satisfies at most one waiter).
    func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter (for changes that concern all of them).
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Locks, then sleeps until `decide` returns a value or `deadline` passes;
    /// nil on timeout, and `nil` as the deadline means wait forever.
    ///
    /// `decide` runs under the lock, first before any sleep (so a condition that
    /// already holds returns at once, even with a past deadline) and again after
    /// every wake-up, spurious or not, including the one at the deadline (so a
    /// change made just as the deadline passed is not lost).
    func wait<Result>(until deadline: MonotonicInstant?, _ decide: (inout State) -> Result?) -> Result? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let result = decide(&state) { return result }
            guard let deadline else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            if MonotonicInstant.now() >= deadline { return nil }
            var until = deadline.absoluteTimespec
            // A timeout, a spurious wake-up and a signal()/broadcast() all lead
            // back to `decide` and the clock check above, so the result code
            // carries nothing we need.
            _ = pthread_cond_timedwait(condition, mutex, &until)
        }
    }
}

extension MonotonicInstant {
    /// This instant as the absolute `timespec` that `pthread_cond_timedwait`
    /// expects from a condition set to `CLOCK_MONOTONIC`.
    fileprivate var absoluteTimespec: timespec {
        // UInt64.max nanoseconds is about 1.8e10 seconds: fits `time_t` (Int).
        timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }
}
