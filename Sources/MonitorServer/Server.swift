import EtcdClient
import Foundation
import Logging
import FleetModel
import MonitorSettings
import Concurrency
import DaemonKit
import SystemdNotify

/// monitor-serverd's supervisor. Owns the fleet state (on the calling thread)
/// and the heartbeat watch thread, which only posts what it sees. Logs one line
/// per node transition, keeps STATUS= current and pets the watchdog while the
/// watch thread makes progress. `run()` returns the exit code after SIGTERM.
public final class Server {
    public struct Options {
        public var configPath: String
        public var configRequired: Bool

        public init(configPath: String, configRequired: Bool) {
            self.configPath = configPath
            self.configRequired = configRequired
        }
    }

    enum Message {
        case signal(Int32)
        case watch(ResumableWatch.Update)
    }

    static let mainLoop = "main loop"
    static let watchWorker = "heartbeat watch"

    private var settings: Settings
    private let options: Options
    private let logger: Logger
    private let mailbox = Mailbox<Message>()
    private let runtime: DaemonRuntime
    private var progress: ProgressMonitor { runtime.progress }
    private var fleet: FleetState
    private var watch: ResumableWatch?
    private var watchThread: WorkerThread?
    private var watchUp: Bool?
    private var synced = false
    private var lastStatus = ""

    public init(settings: Settings, options: Options, logger: Logger) {
        self.settings = settings
        self.options = options
        self.logger = logger
        runtime = DaemonRuntime(logger: logger, mainWorker: Self.mainLoop)
        fleet = Self.makeFleet(settings)
    }

    static func makeFleet(_ settings: Settings) -> FleetState {
        FleetState(layout: KeyLayout(prefix: settings.etcd.keyPrefix),
                   rules: FleetView.Rules(staleAfterRounds: settings.server.staleAfterRounds),
                   thresholds: .init(cpuPercent: settings.server.cpuWarnPercent,
                                     memoryPercent: settings.server.memoryWarnPercent))
    }

    public func run() -> Int32 {
        SignalListener.start { [mailbox] in mailbox.post(.signal($0)) }
        startWatch()
        notify { try SystemdNotifier.ready() }
        logger.info("monitor-serverd \(MonitorVersion.string) started, watching \(settings.etcd.keyPrefix)/ on \(settings.etcd.endpoints.joined(separator: ","))",
                    metadata: ["event": "STARTED"])
        updateStatus()
        var nextSummary = summaryInterval.map { Date().addingTimeInterval($0) }
        while true {
            progress.beat(Self.mainLoop)
            // Sleep until a message, the watchdog, the next summary, or the moment
            // the first node would turn stale; nothing else wakes the server.
            var wake = Date().addingTimeInterval(3600)
            if let pet = runtime.nextWake { wake = min(wake, pet) }
            if let nextSummary { wake = min(wake, nextSummary) }
            let deadline = fleet.nextDeadline()
            if let deadline { wake = min(wake, Date(timeIntervalSince1970: deadline)) }
            if let message = mailbox.next(timeout: wake.timeIntervalSinceNow) {
                switch message {
                case let .signal(signal) where signal == SIGHUP:
                    reload()
                case .signal:
                    notify { try SystemdNotifier.stopping() }
                    stopWatch()
                    logger.notice("stopped", metadata: ["event": "STOPPED"])
                    return 0
                case let .watch(update):
                    handle(update)
                }
            }
            if let deadline, Date().timeIntervalSince1970 >= deadline {
                report(fleet.tick(now: Date().timeIntervalSince1970))
                updateStatus()
            }
            if let due = nextSummary, Date() >= due {
                logSummary()
                nextSummary = summaryInterval.map { Date().addingTimeInterval($0) }
            }
            runtime.petIfDue()
        }
    }

    private func handle(_ update: ResumableWatch.Update) {
        let now = Date().timeIntervalSince1970
        switch update {
        case let .snapshot(kvs, revision):
            let transitions = fleet.apply(snapshot: kvs, now: now)
            logger.info("read \(kvs.count) key\(kvs.count == 1 ? "" : "s") under \(settings.etcd.keyPrefix)/ at revision \(revision); watching from \(revision + 1)",
                        metadata: ["event": "SYNCED"])
            synced = true
            report(transitions)
        case let .events(events, _):
            report(fleet.apply(events: events, now: now))
        case .connected:
            if watchUp == false {
                logger.notice("heartbeat watch resumed", metadata: ["event": "WATCH_RESUMED"])
            }
            watchUp = true
        case let .disconnected(error, retryIn):
            if watchUp != false {
                logger.warning("heartbeat watch interrupted (\(error.shortReason)), resuming in \(String(format: "%.1f", retryIn))s from the next revision",
                               metadata: ["event": "WATCH_INTERRUPTED"])
            }
            watchUp = false
        }
        updateStatus()
    }

    private func report(_ transitions: [FleetState.Transition]) {
        for t in transitions {
            var metadata: Logger.Metadata = [
                "node": "\(t.node)", "event": "\(t.event.rawValue)", "state": "\(t.state.rawValue)",
            ]
            if let id = TransitionMessageID.id(for: t.event) { metadata["message_id"] = "\(id)" }
            let line = "node \(t.node) \(t.event.rawValue) (\(t.detail))"
            switch t.event {
            case .alive, .left, .cpuOK, .memoryOK: logger.notice("\(line)", metadata: metadata)
            case .dead, .stale, .cpuHigh, .memoryHigh: logger.warning("\(line)", metadata: metadata)
            }
            if t.event == .alive, let error = fleet.node(named: t.node, now: Date().timeIntervalSince1970)?.valueError {
                logger.warning("node \(t.node): \(error)", metadata: ["node": "\(t.node)", "event": "BAD_VALUE"])
            }
        }
    }

    private var summaryInterval: Double? {
        settings.server.summaryIntervalSec > 0 ? Double(settings.server.summaryIntervalSec) : nil
    }

    /// The periodic one-line fleet summary, with the busiest nodes.
    private func logSummary() {
        let view = fleet.view(now: Date().timeIntervalSince1970)
        var line = "fleet: \(view.summary)"
        for metric in ["cpu", "memory"] {
            if let top = view.nodes.filter({ $0.state == .alive }).compactMap({ n in n.metrics[metric].map { (n.name, $0) } })
                .max(by: { $0.1 < $1.1 }) {
                line += String(format: "; highest %@ %.1f%% (%@)", metric, top.1, top.0)
            }
        }
        logger.info("\(line)", metadata: ["event": "SUMMARY"])
    }

    private func updateStatus() {
        var line = fleet.summary
        if !synced { line = "reading heartbeats from etcd" }
        if watchUp == false { line += "; etcd unreachable, watch retrying" }
        guard line != lastStatus else { return }
        lastStatus = line
        notify { try SystemdNotifier.status(line) }
    }

    private func startWatch() {
        let layout = KeyLayout(prefix: settings.etcd.keyPrefix)
        let client = EtcdClient(endpoints: settings.etcd.endpoints, requestTimeout: settings.etcd.requestTimeoutSec)
        // One watch over the whole prefix: heartbeats and registry in one ordered stream.
        let w = ResumableWatch(client: client, key: layout.prefix + "/", prefix: true, tick: runtime.workerTick)
        progress.register(Self.watchWorker)
        let thread = WorkerThread(name: Self.watchWorker) { [mailbox, progress] in
            w.run(onIdle: { progress.beat(Self.watchWorker) }) { update in
                progress.beat(Self.watchWorker)
                mailbox.post(.watch(update))
            }
        }
        watch = w
        watchThread = thread
        thread.start()
    }

    private func stopWatch() {
        watch?.stop()
        watchThread?.join(timeout: 0.5)
        watch = nil
        watchThread = nil
    }

    private func reload() {
        defer { runtime.reloaded() }
        guard let new = runtime.reloadSettings(path: options.configPath, required: options.configRequired) else { return }
        let etcdChanged = new.etcd != settings.etcd
        settings = new
        if etcdChanged {
            logger.notice("settings reloaded; reconnecting to etcd \(new.etcd.endpoints.joined(separator: ","))", metadata: ["event": "RELOADED"])
            stopWatch()
            fleet = Self.makeFleet(new)
            synced = false
            startWatch()
        } else {
            let fresh = Self.makeFleet(new)
            fleet.rules = fresh.rules
            fleet.thresholds = fresh.thresholds
            logger.notice("settings reloaded from \(options.configPath)", metadata: ["event": "RELOADED"])
        }
    }

    private func notify(_ body: () throws -> Bool) { runtime.notify(body) }
}
