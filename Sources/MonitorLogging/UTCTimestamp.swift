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
        var time = time_t(seconds)
        var parts = tm()
        // gmtime_r (not gmtime): the record may be formatted on any thread.
        guard gmtime_r(&time, &parts) != nil else { return "\(seconds).\(Self.pad(nanoseconds / 1_000_000, 3))" }
        return "\(Self.pad(Int(parts.tm_year) + 1900, 4))-\(Self.pad(Int(parts.tm_mon) + 1, 2))-\(Self.pad(Int(parts.tm_mday), 2))"
            + "T\(Self.pad(Int(parts.tm_hour), 2)):\(Self.pad(Int(parts.tm_min), 2)):\(Self.pad(Int(parts.tm_sec), 2))"
            + ".\(Self.pad(nanoseconds / 1_000_000, 3))Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
