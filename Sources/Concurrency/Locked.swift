import Synchronization

/// A value reachable only while holding its own lock: the package's one lock type.
///
/// Owns the value it guards, inside a `Synchronization.Mutex` (a futex-based lock
/// stored inline in this object, so it never moves after `init`). The property
/// holding a `Locked` is named after what it guards. Ends with its last
/// reference; there is nothing to close.
///
/// Never hold the lock across a call that may block for long or that may take
/// another `Locked` (lock ordering is not tracked, so two such calls can
/// deadlock).
///
/// `Sendable` without `@unchecked`: its only stored property is the `Mutex`,
/// which is `Sendable` for any value because `withLock` hands the value in and
/// out as `sending`: a non-`Sendable` value cannot escape the lock while still
/// reachable from it. The compiler checks that at every call site in Swift 6
/// mode.
///
/// Known cost: on Linux with Swift 6.3 the Mutex is a priority-inheritance
/// futex that spins long before sleeping, and with more threads hammering one
/// lock than there are cores it degrades badly (measured on this 2-core
/// machine: 8 threads x 20,000 increments took about 1-4 s against 0.02-0.03 s
/// for a pthread mutex; 2 to 4 threads were on par). Locks in this package are
/// taken a few times per second per thread, far from that regime; see
/// swiftlang/swift#88440, fixed upstream by a plain-futex Mutex (#88523).
/// Should it ever matter, a heap-allocated `pthread_mutex_t` can replace the
/// Mutex here without changing the API.
public final class Locked<State>: Sendable {
    // A class around the Mutex, because Mutex is ~Copyable: callers need one
    // shared lock that several threads and closures can hold references to.
    private let mutex: Mutex<State>

    public init(_ initial: sending State) {
        mutex = Mutex(initial)
    }

    /// Runs `body` with exclusive access to the value and returns its result.
    /// Typed throws instead of `rethrows` because `Mutex.withLock` has that
    /// shape; callers see the same thing (no `try` for a non-throwing body).
    public func withLock<Result, Failure: Error>(
        _ body: (inout sending State) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        try mutex.withLock(body)
    }
}
