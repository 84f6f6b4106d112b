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
}
