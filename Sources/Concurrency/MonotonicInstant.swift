import Glibc

/// A point in time on `CLOCK_MONOTONIC`.
///
/// The monotonic clock never jumps when the wall clock is set, which is what
/// stall detection and every deadline in this package need, and it is the clock
/// systemd expects in `MONOTONIC_USEC`. Its origin is unspecified (in practice:
/// boot, excluding suspend), so only differences and comparisons are
/// meaningful. A plain value: owns nothing.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// Reads `CLOCK_MONOTONIC` now.
    public static func now() -> MonotonicInstant {
        var spec = timespec()
        // Cannot fail for CLOCK_MONOTONIC with a valid pointer on Linux.
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    /// Whole microseconds since the clock's origin, the unit of `MONOTONIC_USEC`.
    public var microseconds: UInt64 { nanoseconds / 1_000 }

    /// Seconds since the clock's origin. Only differences are meaningful; for
    /// one, prefer `secondsSince(_:)`, which subtracts before converting and so
    /// keeps nanosecond precision however long the machine has been up.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public var description: String { "monotonic \(nanoseconds) ns" }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The time from `rhs` to `lhs`; negative when `lhs` is earlier.
    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        if lhs >= rhs {
            return .nanoseconds(Int64(clamping: lhs.nanoseconds - rhs.nanoseconds))
        }
        return .nanoseconds(-Int64(clamping: rhs.nanoseconds - lhs.nanoseconds))
    }

    /// Seconds from `earlier` to this instant; negative when `earlier` is later.
    public func secondsSince(_ earlier: MonotonicInstant) -> Double {
        if self >= earlier {
            return Double(nanoseconds - earlier.nanoseconds) / 1e9
        }
        return -Double(earlier.nanoseconds - nanoseconds) / 1e9
    }

    /// The instant `duration` later (earlier when negative), clamped to the clock's range.
    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        let delta = Self.nanoseconds(of: rhs)
        return lhs.moved(by: delta.magnitude, later: delta >= 0)
    }

    /// The instant `seconds` later (earlier when negative), clamped to the
    /// clock's range: `.infinity` is the end of time (a deadline that never
    /// comes), and NaN counts as zero so a bad computation cannot make a wait
    /// undefined.
    public static func + (lhs: MonotonicInstant, seconds: Double) -> MonotonicInstant {
        if seconds.isNaN { return lhs }
        let scaled = (seconds.magnitude * 1e9).rounded(.towardZero)
        // UInt64.max is not exactly representable as a Double; compare against
        // 2^64, the first Double past it.
        let magnitude = scaled >= 18_446_744_073_709_551_616.0 ? UInt64.max : UInt64(scaled)
        return lhs.moved(by: magnitude, later: seconds >= 0)
    }

    private func moved(by magnitude: UInt64, later: Bool) -> MonotonicInstant {
        if later {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(magnitude)
            return MonotonicInstant(nanoseconds: overflow ? .max : sum)
        }
        return MonotonicInstant(nanoseconds: nanoseconds > magnitude ? nanoseconds - magnitude : 0)
    }

    /// `duration` in whole nanoseconds, saturating at the bounds of `Int64`.
    static func nanoseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}
