import MonitorSettings
import Foundation
import Logging
import Concurrency
import SystemdNotify
import MonitorLogging

/// What both daemons' supervisors share: the watchdog schedule and its
/// health-gated pets, sd_notify calls that never fail the daemon, and the
/// settings re-read of a SIGHUP. Owned by the supervisor's thread; lives as long
/// as the daemon.
public final class DaemonRuntime {
    public let progress = ProgressMonitor()
    public let watchdog: WatchdogSettings?
    private let logger: Logger
    private let mainWorker: String
    private var nextPet = Date()
    /// Test hook: a worker named here counts as stuck (proves the watchdog path).
    private let stalledWorker = ProcessInfo.processInfo.environment["MONITOR_TEST_STALL_WORKER"]

    /// `mainWorker`: the supervisor loop's own name in the progress monitor.
    public init(logger: Logger, mainWorker: String) {
        self.logger = logger
        self.mainWorker = mainWorker
        watchdog = (try? WatchdogSettings.fromEnvironment()) ?? nil
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
    public var nextWake: Date? { watchdog == nil ? nil : nextPet }

    /// Pets the watchdog when due, and only if every worker made progress within
    /// half the watchdog interval; otherwise says which did not.
    public func petIfDue() {
        guard let watchdog, Date() >= nextPet else { return }
        // Reaching this check is the supervisor loop's own progress.
        progress.beat(mainWorker)
        var stalled = progress.stalled(allowance: watchdog.petInterval)
        if let stalledWorker, progress.workers.contains(stalledWorker) { stalled.append(stalledWorker) }
        if stalled.isEmpty {
            notify { try SystemdNotifier.watchdog() }
        } else {
            logger.error("not petting the watchdog: \(stalled.joined(separator: ", ")) made no progress",
                         metadata: ["event": "WATCHDOG_STALL"])
        }
        let pet = watchdog.petInterval.components
        nextPet = Date().addingTimeInterval(Double(pet.seconds) + Double(pet.attoseconds) / 1e18)
    }

    /// sd_notify failures are not fatal: the daemon works without systemd.
    public func notify(_ body: () throws -> Bool) {
        do { _ = try body() } catch { logger.debug("sd_notify failed: \(error), ignoring") }
    }

    /// SIGHUP's first half: RELOADING=1, re-read the settings, apply the log level.
    /// Returns nil (logged) when the file became invalid: the running settings stay.
    /// The caller applies the rest, then calls `reloaded()`.
    public func reloadSettings(path: String, required: Bool) -> Settings? {
        notify { try SystemdNotifier.reloading() }
        do {
            let new = try Settings.load(path: path, required: required)
            if let level = Logger.Level(rawValue: new.log.level) { LoggingBootstrap.setLevel(level) }
            return new
        } catch {
            logger.error("reload failed: \(error); keeping the running settings", metadata: ["event": "RELOAD_FAILED"])
            return nil
        }
    }

    /// SIGHUP's end: READY=1 again.
    public func reloaded() { notify { try SystemdNotifier.ready() } }
}
