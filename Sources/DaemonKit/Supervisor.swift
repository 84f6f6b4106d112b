import Concurrency
import Glibc
import Logging
import MonitorLogging
import MonitorSettings
import SafeText
import SystemdNotify

/// What a daemon gets from its supervisor when it is built: the way to start
/// workers that post to the supervisor's mailbox, and how long they may sleep.
public struct DaemonContext<Message: Sendable>: Sendable {
    let mailbox: Mailbox<SupervisorEvent<Message>>
    let progress: ProgressMonitor
    /// The longest a worker may stay silent (see `WatchdogPetter.workerTick`).
    public let workerTick: Double
    /// The settings file a reload re-reads, for log lines.
    public let settingsPath: String

    /// A new group of workers (one per registration, watch...).
    public func makeWorkers() -> WorkerGroup<Message> {
        WorkerGroup(mailbox: mailbox, progress: progress)
    }
}

/// The one loop both daemons run, on the main thread: it owns the daemon, the
/// watchdog petter and the mailbox every other thread posts to, and sends every
/// sd_notify state (READY once start-up succeeded; RELOADING...READY around a
/// reload; STOPPING on every exit; STATUS when it changes). It sleeps until an
/// event or the earliest deadline (the daemon's, the next watchdog pet), both
/// on the monotonic clock, so a wall-clock step delays nothing. `run()` returns
/// the exit code: 0 after SIGTERM/SIGINT, 70 when a worker ended unexpectedly
/// and no watchdog will restart the service.
public final class Supervisor<D: Daemon> {
    /// EX_SOFTWARE: an internal error; systemd's Restart=on-failure restarts.
    public static var workerLostExitCode: Int32 { 70 }

    private let logger: Logger
    private let settingsPath: String
    private let settingsRequired: Bool
    private let program: MonitorProgram
    private let mailbox = Mailbox<SupervisorEvent<D.Message>>()
    private let petter: WatchdogPetter
    private let mainWorker: String
    private var daemon: D!
    private var lastStatus = ""
    /// Why the last SIGHUP reload failed, until one succeeds: STATUS says so.
    private var reloadFailure: String?
    /// Signals received and not yet handled. They bypass the mailbox's order:
    /// a SIGTERM must not wait behind a backlog of watch messages.
    private let pendingSignals = Locked<[Int32]>([])

    /// - Parameters:
    ///   - settingsPath, settingsRequired, program: where and as whom SIGHUP
    ///     re-reads the settings.
    ///   - make: builds the daemon (no thread may start before `run`).
    public init(logger: Logger, mainWorker: String, settingsPath: String, settingsRequired: Bool,
                program: MonitorProgram, make: (DaemonContext<D.Message>) -> D) {
        self.logger = logger
        self.mainWorker = mainWorker
        self.settingsPath = settingsPath
        self.settingsRequired = settingsRequired
        self.program = program
        petter = WatchdogPetter(logger: logger, mainWorker: mainWorker)
        daemon = make(DaemonContext(mailbox: mailbox, progress: petter.progress, workerTick: petter.workerTick,
                                    settingsPath: settingsPath))
    }

    public func run() -> Int32 {
        SignalListener.start { [pendingSignals, mailbox] signal in
            queueSignal(signal, pending: pendingSignals, mailbox: mailbox)
        }
        daemon.start(now: .now())
        Notify.send { try SystemdNotifier.ready() }
        sendStatus()
        while true {
            // Signals before data, whatever the backlog.
            while let signal = pendingSignals.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                if signal == SIGHUP {
                    reload()
                    sendStatus()
                } else {
                    stop()
                    return 0
                }
            }
            petter.progress.beat(mainWorker)
            let wake = [daemon.nextDeadline, petter.nextWake].compactMap { $0 }.min()
            let event = mailbox.next(until: wake)
            switch event {
            case nil:
                break
            case .signal:
                break // only a wake-up: handled from `pendingSignals` at the top of the loop
            case let .message(message):
                daemon.handle(message, now: .now())
            case let .workerEnded(name):
                petter.workerEnded(name)
                if petter.watchdog == nil {
                    logger.critical("worker thread \"\(name)\" ended unexpectedly; stopping (exit \(Self.workerLostExitCode))",
                                    metadata: ["event": "WORKER_ENDED"])
                    stop()
                    return Self.workerLostExitCode
                }
                logger.critical("worker thread \"\(name)\" ended unexpectedly; no more watchdog pets, systemd restarts the service",
                                metadata: ["event": "WORKER_ENDED"])
            }
            if let deadline = daemon.nextDeadline, MonotonicInstant.now() >= deadline {
                daemon.deadlineReached(now: .now())
            }
            sendStatus()
            petter.petIfDue(now: .now(), backlogSince: mailbox.oldestPosted)
        }
    }

    /// Queues a signal ahead of every message and wakes the loop. The signal
    /// thread calls it; tests call it to stand in for a real signal.
    func deliver(signal: Int32) {
        queueSignal(signal, pending: pendingSignals, mailbox: mailbox)
    }

    /// SIGHUP: RELOADING=1, re-read the settings, apply the log level and hand
    /// them to the daemon, READY=1. A settings file that became invalid is
    /// logged and the running settings stay.
    private func reload() {
        Notify.send { try SystemdNotifier.reloading() }
        defer { Notify.send { try SystemdNotifier.ready() } }
        let settings: Settings
        do {
            settings = try Settings.load(path: settingsPath, required: settingsRequired, program: program)
        } catch {
            logger.error("reload failed: \(error); keeping the running settings", metadata: ["event": "RELOAD_FAILED"])
            reloadFailure = "\(error)"
            return
        }
        reloadFailure = nil
        if let level = Logger.Level(rawValue: settings.log.level) { LoggingBootstrap.setLevel(level) }
        daemon.reload(settings, now: .now())
    }

    private func stop() {
        Notify.send { try SystemdNotifier.stopping() }
        Notify.send { try SystemdNotifier.status("stopping") }
        daemon.stop()
    }

    private func sendStatus() {
        var line = daemon.status
        if let reloadFailure {
            line += "; last reload failed, running settings kept: " + SafeText.cut(reloadFailure, limit: 160)
        }
        guard line != lastStatus else { return }
        lastStatus = line
        Notify.send { try SystemdNotifier.status(line) }
    }
}

/// Puts a signal ahead of every message and wakes the supervisor's loop.
private func queueSignal<Message>(_ signal: Int32, pending: Locked<[Int32]>, mailbox: Mailbox<SupervisorEvent<Message>>) {
    pending.withLock { $0.append(signal) }
    mailbox.post(.signal(signal))
}
