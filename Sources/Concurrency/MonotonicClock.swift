#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The default time source for rates: seconds on CLOCK_MONOTONIC, which wall-clock
/// changes (NTP steps, manual `date`) cannot make go backwards.
public enum MonotonicClock {
    public static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }
}
