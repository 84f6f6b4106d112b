import Glibc

/// A value reachable only while holding its own mutex.
///
/// Owns one heap-allocated `pthread_mutex_t` and the state it guards; the
/// property holding a `Locked` is named after what it guards. Ends with its
/// last reference (the mutex is destroyed in `deinit`). Never hold it across a
/// call that may block for long or that may take another `Locked`.
public final class Locked<State>: @unchecked Sendable {
    private var state: State
    // Heap-allocated because a pthread mutex must not move in memory, which a
    // Swift stored property is allowed to do.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ initial: State) {
        state = initial
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
