import Concurrency
import Glibc
import Logging
import SystemdNotify

/// The systemd watchdog of one daemon: its schedule on the monotonic clock and
/// the health gate in front of every pet. Owns the `ProgressMonitor` that every
/// worker beats. Used by the supervisor's thread only; lives as long as the daemon.
///
/// A pet is sent only when every registered worker made progress within half
/// the watchdog interval, when the supervisor's loop keeps up with its mailbox
/// (the oldest message waiting was posted less than half the interval ago: a
/// loop that turns but falls ever further behind its watch is as unhealthy as
/// one that hangs), and never again once a worker ended unexpectedly:
/// systemd then restarts the service, which is the cure for a daemon that lost
/// a thread (chosen over restarting the thread in place, whose state nobody
/// could vouch for).
public final class WatchdogPetter {
    public let progress = ProgressMonitor()
    public let watchdog: WatchdogSettings?
    private let logger: Logger
    private let mainWorker: String
    private var nextPet = MonotonicInstant.now()
    private var ended: [String] = []
    /// Test hook: a worker named here counts as stuck (proves the watchdog path).
    private let stalledWorker = getenv("MONITOR_TEST_STALL_WORKER").map { String(cString: $0) }

    /// `mainWorker`: the supervisor loop's own name in the progress monitor.
    public init(logger: Logger, mainWorker: String) {
        self.logger = logger
        self.mainWorker = mainWorker
        do {
            watchdog = try WatchdogSettings.fromEnvironment()
        } catch {
            // systemd never sets a malformed value; someone else did. Say so.
            logger.warning("WATCHDOG_USEC is malformed (\(error)); running without watchdog pets, ignoring",
                           metadata: ["event": "WATCHDOG_INVALID"])
            watchdog = nil
        }
        progress.register(mainWorker)
    }

    /// How long a worker thread may sleep between signs of life: a quarter of the
    /// watchdog interval (so two missed beats still fit in half of it), at most 5 s,
    /// and 5 s without a watchdog. Longer sleeps mean fewer wakeups when idle.
    public var workerTick: Double {
        guard let watchdog else { return 5 }
        let interval = watchdog.interval.components
        let seconds = Double(interval.seconds) + Double(interval.attoseconds) / 1e18
        return max(0.05, min(5, seconds / 4))
    }

    /// When the supervisor must wake for the watchdog; nil without one.
    public var nextWake: MonotonicInstant? { watchdog == nil ? nil : nextPet }

    /// A worker's body returned unexpectedly: no pet from now on.
    public func workerEnded(_ name: String) {
        ended.append(name)
    }

    /// Pets the watchdog when due, and only if every worker made progress within
    /// half the watchdog interval and the loop's backlog is younger than that;
    /// otherwise says what is behind.
    /// - Parameter backlogSince: when the oldest message still waiting for the
    ///   loop was posted (`Mailbox.oldestPosted`); nil when none waits.
    public func petIfDue(now: MonotonicInstant, backlogSince: MonotonicInstant? = nil) {
        guard let watchdog, now >= nextPet else { return }
        // Reaching this check is the supervisor loop's own progress.
        progress.beat(mainWorker)
        var stalled = progress.stalled(now: now, allowance: watchdog.petInterval)
        if let backlogSince, now - backlogSince > watchdog.petInterval {
            let tenths = Int(now.secondsSince(backlogSince) * 10)
            stalled.append("\(mainWorker) (\(tenths / 10).\(tenths % 10) s behind its messages)")
        }
        if let stalledWorker, progress.workers.contains(stalledWorker) { stalled.append(stalledWorker) }
        stalled += ended
        if stalled.isEmpty {
            Notify.send { try SystemdNotifier.watchdog() }
        } else {
            logger.error("not petting the watchdog: \(stalled.joined(separator: ", ")) made no progress",
                         metadata: ["event": "WATCHDOG_STALL"])
        }
        nextPet = now + watchdog.petInterval
    }
}

/// sd_notify calls that never fail the daemon: it works without systemd, and
/// a failed notification only matters to the service manager.
public enum Notify {
    public static func send(_ body: () throws -> Bool) {
        do { _ = try body() } catch {
            Logger(label: "sd_notify").debug("sd_notify failed: \(error), ignoring")
        }
    }
}
