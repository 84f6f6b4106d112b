import Concurrency
import CSystemd

/// Service-manager notifications over `sd_notify(0, ...)`.
///
/// Owns nothing: each call hands one state string to libsystemd, which opens
/// its own socket to `$NOTIFY_SOCKET`, sends one datagram and closes it. With
/// no shared state the functions are safe to call from any thread (the only
/// hazard is a concurrent `setenv`, which no daemon code does). The
/// environment is never unset, so later calls keep working.
///
/// Every function returns `true` when the message was sent and `false` when
/// the process is not running under systemd (`NOTIFY_SOCKET` unset) — a normal
/// result, not an error. They throw ``SystemdError`` only when a notification
/// socket exists and sending to it failed; callers usually log that as
/// "..., ignoring" because the service manager is the only one who would care.
public enum SystemdNotifier {
    /// `READY=1`: start-up really succeeded. Send once, after every part started.
    @discardableResult
    public static func ready() throws -> Bool {
        try send("READY=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC`: a reload (SIGHUP) began.
    ///
    /// `Type=notify-reload` (systemd 253+) requires the timestamp; sending it
    /// on older versions is harmless. Follow with ``ready()`` when the new
    /// settings are in effect.
    ///
    /// - Parameter instant: when the reload began; tests pass a fixed one.
    @discardableResult
    public static func reloading(at instant: MonotonicInstant = .now()) throws -> Bool {
        try send("RELOADING=1\nMONOTONIC_USEC=\(instant.microseconds)")
    }

    /// `STOPPING=1`: shutdown began. Send on every exit path.
    @discardableResult
    public static func stopping() throws -> Bool {
        try send("STOPPING=1")
    }

    /// `STATUS=<line>`: the one-line status `systemctl status` shows.
    ///
    /// Line breaks would end the assignment early (the rest would be parsed as
    /// further assignments), so each run of CR/LF becomes one space and leading
    /// or trailing breaks are dropped.
    @discardableResult
    public static func status(_ line: String) throws -> Bool {
        try send("STATUS=" + oneLine(line))
    }

    /// `WATCHDOG=1`: pet the watchdog. Only call it when the daemon is really
    /// healthy (see ``ProgressMonitor``), at ``WatchdogSettings/petInterval``.
    @discardableResult
    public static func watchdog() throws -> Bool {
        try send("WATCHDOG=1")
    }

    /// Sends `state` verbatim: newline-separated `KEY=value` assignments.
    @discardableResult
    public static func send(_ state: String) throws -> Bool {
        let result = sd_notify(0, state)
        if result < 0 {
            throw SystemdError(function: "sd_notify", errno: -result)
        }
        return result > 0
    }

    /// `text` with every run of CR/LF replaced by one space, trimmed of breaks at either end.
    static func oneLine(_ text: String) -> String {
        // Split on scalars, not Characters: "\r\n" is one Character, and a
        // combining mark after "\n" would hide it inside another Character.
        text.unicodeScalars
            .split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { String(String.UnicodeScalarView($0)) }
            .joined(separator: " ")
    }
}
