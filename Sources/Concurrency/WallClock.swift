import Glibc

/// The wall clock (`CLOCK_REALTIME`), for timestamps that people and other
/// machines read (a heartbeat's `ts`, a registry's `last_start`). Never for a
/// deadline: those use `MonotonicInstant`, which a clock step cannot move.
public enum WallClock {
    /// Unix seconds now, with sub-second precision.
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// `unixSeconds` as ISO 8601 in UTC (`2026-12-04T05:14:32Z`, or with
    /// `.123` milliseconds when `milliseconds` is given), for log lines and tables.
    public static func text(_ unixSeconds: Int, milliseconds: Int? = nil) -> String {
        var time = time_t(unixSeconds)
        var parts = tm()
        // gmtime_r (not gmtime): any thread may format.
        guard gmtime_r(&time, &parts) != nil else { return "@\(unixSeconds)" }
        let fraction = milliseconds.map { "." + pad($0, 3) } ?? ""
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))\(fraction)Z"
    }

    /// Whole seconds of `unixSeconds` (rounded down) as `text`.
    public static func text(_ unixSeconds: Double) -> String {
        text(Int(unixSeconds.rounded(.down)))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
