import Concurrency
/// The last sign of progress of each named worker of a daemon.
///
/// Owns one map, worker name to the `CLOCK_MONOTONIC` instant of its last
/// ``beat(_:)``. Each long-running thread ("work loop", "keepalive", "config
/// watch") beats whenever it completes a unit of work or a bounded wait; the
/// thread that pets the systemd watchdog asks ``stalled(now:allowance:)``
/// first and skips the pet when any worker is stalled, so a stuck thread leads
/// to a watchdog restart instead of a daemon that looks alive. Safe to use
/// from any thread. Lives as long as the daemon; workers that end for good
/// ``unregister(_:)`` so they are not reported as stalled.
///
/// ```swift
/// let progress = ProgressMonitor()
/// progress.register("work loop")
/// // work loop: progress.beat("work loop") after each iteration
/// // pet loop, every settings.petInterval:
/// if progress.stalled(allowance: .seconds(30)).isEmpty { try? SystemdNotifier.watchdog() }
/// ```
public final class ProgressMonitor: Sendable {
    /// Where ``beat(_:)`` and the default `now` read the time; tests inject one.
    public typealias Clock = @Sendable () -> MonotonicInstant

    private let clock: Clock
    private let lastBeats: Locked<[String: MonotonicInstant]>

    public init(clock: @escaping Clock = { MonotonicInstant.now() }) {
        self.clock = clock
        self.lastBeats = Locked([:])
    }

    /// Starts watching `name` as if it had just beaten.
    ///
    /// Register before starting the worker's thread: a worker that never
    /// beats at all is then caught too.
    public func register(_ name: String) {
        let now = clock()
        lastBeats.withLock { $0[name] = now }
    }

    /// Stops watching `name` (its work ended on purpose).
    public func unregister(_ name: String) {
        _ = lastBeats.withLock { $0.removeValue(forKey: name) }
    }

    /// Records progress of `name` now. An unregistered name is registered by
    /// its first beat, so a misspelt name cannot silently go unwatched
    /// after it has once made progress.
    public func beat(_ name: String) {
        let now = clock()
        lastBeats.withLock { $0[name] = now }
    }

    /// The names being watched, sorted.
    public var workers: [String] {
        lastBeats.withLock { $0.keys.sorted() }
    }

    /// The names whose last beat is more than `allowance` before `now`, sorted.
    ///
    /// - Parameter now: defaults to the monitor's clock.
    public func stalled(now: MonotonicInstant? = nil, allowance: Duration) -> [String] {
        let now = now ?? clock()
        return lastBeats.withLock { beats in
            beats.filter { now - $0.value > allowance }.map(\.key)
        }.sorted()
    }

    /// How long ago `name` last beat, or `nil` if it is not watched; for log lines.
    public func silence(of name: String, now: MonotonicInstant? = nil) -> Duration? {
        let now = now ?? clock()
        return lastBeats.withLock { $0[name] }.map { now - $0 }
    }
}
