import Concurrency
import Glibc

/// A wall-clock instant printed as ISO 8601 in UTC with milliseconds.
///
/// Only for human-readable log lines (`2024-05-01T12:34:56.789Z`); intervals
/// and deadlines use ``MonotonicInstant``.
struct UTCTimestamp: Equatable, Sendable, CustomStringConvertible {
    /// Seconds since the Unix epoch.
    let seconds: Int
    /// Nanoseconds within the second, 0..<1_000_000_000.
    let nanoseconds: Int

    init(seconds: Int, nanoseconds: Int) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Reads `CLOCK_REALTIME` now.
    static func now() -> UTCTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UTCTimestamp(seconds: Int(spec.tv_sec), nanoseconds: Int(spec.tv_nsec))
    }

    var description: String {
        WallClock.text(seconds, milliseconds: nanoseconds / 1_000_000)
    }
}
