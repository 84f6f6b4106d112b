import Glibc

/// A point in time on `CLOCK_MONOTONIC`.
///
/// The monotonic clock never jumps when the wall clock is set, which is what
/// stall detection needs, and it is the clock systemd expects in
/// `MONOTONIC_USEC`. Its origin is unspecified (in practice: boot, excluding
/// suspend), so only differences and comparisons are meaningful.
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

    /// The instant `duration` later (earlier when negative), clamped to the clock's range.
    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        let delta = Self.nanoseconds(of: rhs)
        if delta >= 0 {
            let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(UInt64(delta))
            return MonotonicInstant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = delta.magnitude
        return MonotonicInstant(nanoseconds: lhs.nanoseconds > magnitude ? lhs.nanoseconds - magnitude : 0)
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

extension MonotonicInstant {
    /// Seconds since the clock's origin.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// The instant `seconds` later (earlier when negative), clamped to the clock's range.
    public static func + (lhs: MonotonicInstant, seconds: Double) -> MonotonicInstant {
        guard seconds.isFinite else { return seconds > 0 ? MonotonicInstant(nanoseconds: .max) : lhs }
        return lhs + Duration.nanoseconds(Int64(clamping: Int64(exactly: (seconds * 1e9).rounded()) ?? (seconds > 0 ? .max : .min)))
    }

    /// Seconds from `earlier` to this instant; negative when `earlier` is later.
    public func secondsSince(_ earlier: MonotonicInstant) -> Double {
        nanoseconds >= earlier.nanoseconds ? Double(nanoseconds - earlier.nanoseconds) / 1e9
            : -Double(earlier.nanoseconds - nanoseconds) / 1e9
    }
}
