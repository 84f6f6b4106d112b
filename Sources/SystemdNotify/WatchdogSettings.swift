import CSystemd

/// The service watchdog systemd armed for this process, if any.
///
/// A value read once at start-up (and again on reload if wanted). systemd
/// restarts the service when no `WATCHDOG=1` arrives within ``interval``;
/// petting at half of it leaves room for one late pet.
public struct WatchdogSettings: Equatable, Sendable {
    /// `WatchdogSec=` of the unit, as passed in `$WATCHDOG_USEC`.
    public let interval: Duration

    public init(interval: Duration) {
        self.interval = interval
    }

    /// How often to pet: half the interval, so one pet may be late or lost.
    public var petInterval: Duration { interval / 2 }

    /// Reads `$WATCHDOG_USEC` via `sd_watchdog_enabled(0, &usec)`.
    ///
    /// libsystemd honours `$WATCHDOG_PID`: when it names another process (the
    /// variables were inherited from a parent) the watchdog is not ours and
    /// the result is `nil`, as it is when the variables are absent. The
    /// environment is left intact.
    ///
    /// - Throws: ``SystemdError`` when the variables are malformed (e.g. a
    ///   non-numeric or zero `WATCHDOG_USEC`), which systemd never produces.
    public static func fromEnvironment() throws -> WatchdogSettings? {
        var usec: UInt64 = 0
        let result = sd_watchdog_enabled(0, &usec)
        if result < 0 {
            throw SystemdError(function: "sd_watchdog_enabled", errno: -result)
        }
        guard result > 0 else { return nil }
        return WatchdogSettings(interval: .microseconds(Int64(clamping: usec)))
    }
}
