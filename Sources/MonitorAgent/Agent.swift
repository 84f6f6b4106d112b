import EtcdClient
import Foundation
import Logging
import FleetModel
import MonitorSettings
import FleetModel
import Concurrency
import DaemonKit
import SystemdNotify

/// monitor-agentd's supervisor. Owns the work loop (on the calling thread) and
/// the threads it starts: the lease keepalive and the two config watches. Every
/// thread posts to one mailbox; this loop alone changes state, logs transitions,
/// sends sd_notify and pets the watchdog. `run()` returns the exit code after a
/// clean stop (SIGTERM/SIGINT): heartbeat marked stopping, lease revoked.
public final class Agent {
    public struct Options {
        public var configPath: String
        public var configRequired: Bool
        public var hostname: String
        public var procRoot: String

        public init(configPath: String, configRequired: Bool, hostname: String, procRoot: String = "/proc") {
            self.configPath = configPath
            self.configRequired = configRequired
            self.hostname = hostname
            self.procRoot = procRoot
        }
    }

    enum Message {
        case signal(Int32)
        case session(LeaseSession.State)
        case config(ConfigStore.Change?)
    }

    static let workLoop = "work loop"

    private var settings: Settings
    private let options: Options
    private var logger: Logger
    private let mailbox = Mailbox<Message>()
    private let runtime: DaemonRuntime
    private var progress: ProgressMonitor { runtime.progress }
    private let store = ConfigStore()
    private let collector: MetricsCollector
    private var selection: MetricSelection
    private var warnedUnknown: [String] = []
    private var components: AgentComponents?
    private var node: String
    private var layout: KeyLayout
    private var sessionState = LeaseSession.State.connecting
    private var lastLoggedReason: String?
    private var registeredOnce = false
    private var seq: Int64 = 0
    private let sampleLock = NSLock()
    private var latestSample = MetricsSample(values: [:], memoryTotalBytes: nil, memoryAvailableBytes: nil, errors: [:])
    private var lastStatus = ""
    /// What this start wrote to the registry; nil until written.
    private var registryRecord: NodeRecord?
    private var publishedConfigError: String?

    public init(settings: Settings, options: Options, logger: Logger) {
        self.settings = settings
        self.options = options
        self.logger = logger
        runtime = DaemonRuntime(logger: logger, mainWorker: Self.workLoop)
        node = settings.resolvedNodeName(hostname: options.hostname)
        // Every record of this agent names its node (journald field NODE).
        self.logger[metadataKey: "node"] = "\(node)"
        layout = KeyLayout(prefix: settings.etcd.keyPrefix)
        collector = MetricsCollector(procRoot: options.procRoot)
        selection = MetricSelection(names: AgentConfig.default.metrics)
    }

    /// Runs until SIGTERM/SIGINT; returns the process exit code.
    public func run() -> Int32 {
        SignalListener.start { [mailbox] in mailbox.post(.signal($0)) }
        collector.prime(selection.metrics)
        startComponents()
        notify { try SystemdNotifier.ready() }
        logger.info("monitor-agentd \(MonitorVersion.string) started as node \(node), etcd \(settings.etcd.endpoints.joined(separator: ","))",
                    metadata: ["node": "\(node)", "event": "STARTED"])
        updateStatus()

        // The first round comes soon, so the view has figures without waiting a
        // whole interval; the baseline taken above gives it rates.
        var nextRound = Date().addingTimeInterval(min(1, store.config.interval))
        while true {
            progress.beat(Self.workLoop)
            let wake = runtime.nextWake.map { min($0, nextRound) } ?? nextRound
            if let message = mailbox.next(timeout: wake.timeIntervalSinceNow) {
                switch message {
                case let .signal(signal) where signal == SIGHUP:
                    reload()
                case .signal:
                    stop()
                    return 0
                case let .session(state):
                    // A (re-)registration put a value built before the config
                    // watches may have applied anything: re-put it at once. No
                    // collection here: rates over a few milliseconds are noise.
                    if sessionChanged(state) { publish() }
                case let .config(change):
                    if let change {
                        configChanged(change)
                        publish() // the new interval is visible at once
                        nextRound = Date().addingTimeInterval(change.new.interval)
                    } else if store.configError != publishedConfigError {
                        publish() // the operator sees a rejected value from the central view at once
                    }
                    updateStatus()
                }
            }
            if Date() >= nextRound {
                round()
                nextRound = Date().addingTimeInterval(store.config.interval)
            }
            runtime.petIfDue()
        }
    }

    // MARK: Work

    /// One round: collect the configured metrics and re-put the heartbeat (the
    /// only etcd write of a round).
    private func round() {
        let sample = collector.collect(selection.metrics)
        sampleLock.lock()
        latestSample = sample
        seq += 1
        sampleLock.unlock()
        for (metric, error) in sample.errors.sorted(by: { $0.key < $1.key }) {
            logger.warning("collector \(metric.rawValue) failed: \(error), skipping", metadata: ["metric": "\(metric.rawValue)"])
        }
        publish()
    }

    /// Puts the heartbeat with the latest figures, attached to the lease.
    private func publish() {
        publishedConfigError = store.configError
        guard let components, let lease = components.session.currentLease else { return }
        do {
            try components.workClient.put(layout.heartbeat(node), value: heartbeatValue(status: Heartbeat.alive), lease: lease.id)
            logger.debug("round \(seq): heartbeat put", metadata: ["event": "ROUND", "lease_id": "\(LeaseSession.hex(lease.id))"])
        } catch EtcdError.leaseLost {
            components.session.leaseSuspect()
        } catch {
            // The session notices the outage too and reports it once.
            logger.debug("round \(seq): heartbeat put failed: \(error)")
        }
    }

    /// The heartbeat value in force: lab fields plus interval, metrics, config error.
    func heartbeatValue(status: String) -> [UInt8] {
        let config = store.config
        sampleLock.lock()
        let sample = latestSample, round = seq
        sampleLock.unlock()
        let selected = Set(MetricSelection(names: config.metrics).metrics)
        var hb = Heartbeat(status: status, ts: Date().timeIntervalSince1970, hostname: options.hostname,
                           interval: config.interval, node: node, version: MonitorVersion.string, seq: round,
                           configError: store.configError)
        // Only what the config in force asks for, even right after it changed.
        let figures = sample.values.filter { selected.contains($0.key) }
        if !figures.isEmpty {
            hb.metrics = Dictionary(uniqueKeysWithValues: figures.map { ($0.key.rawValue, $0.value) })
        }
        hb.memoryTotalBytes = sample.memoryTotalBytes
        hb.memoryAvailableBytes = sample.memoryAvailableBytes
        return hb.encoded()
    }

    private func configChanged(_ change: ConfigStore.Change) {
        selection = MetricSelection(names: change.new.metrics)
        if !selection.unknown.isEmpty && selection.unknown != warnedUnknown {
            logger.warning("unknown metric names \(selection.unknown) in config, ignoring them; known: \(MetricName.allCases.map(\.rawValue))",
                           metadata: ["event": "CONFIG_UNKNOWN_METRIC"])
        }
        warnedUnknown = selection.unknown
        collector.prime(selection.metrics)
    }

    /// Returns true when the node has just (re-)registered.
    private func sessionChanged(_ state: LeaseSession.State) -> Bool {
        let previous = sessionState
        var registered = false
        if case .alive = state { registered = true }
        sessionState = state
        switch state {
        case .connecting:
            break
        case let .alive(lease):
            let id = LeaseSession.hex(lease.id)
            if registryRecord == nil { writeRegistry() }
            if !registeredOnce || lastLoggedReason != nil {
                logger.notice("\(registeredOnce ? "re-registered" : "registered") as node \(node): lease \(id) (TTL \(lease.ttl)s), heartbeat \(layout.heartbeat(node))",
                              metadata: ["node": "\(node)", "event": "REGISTERED", "lease_id": "\(id)"])
            }
            registeredOnce = true
            lastLoggedReason = nil
            components?.revokeReplacedLease(logger: logger)
            if case .alive = previous { registered = false }
        case let .unreachable(reason, _):
            // Once per state change, not once per retry.
            if reason != lastLoggedReason {
                logger.warning("etcd unreachable (\(reason)), retrying with backoff",
                               metadata: ["node": "\(node)", "event": "ETCD_UNREACHABLE"])
                lastLoggedReason = reason
            }
        }
        updateStatus()
        return registered
    }

    /// Registers the node in `<prefix>/nodes/<node>` (no lease): once per start,
    /// so a node that dies stays known as dead. Retried at the next registration.
    private func writeRegistry() {
        guard let client = components?.workClient else { return }
        let key = layout.registry(node)
        do {
            let previous = try client.range(key).kvs.first.flatMap { try? NodeRecord.parse($0.value) }
            let record = NodeRecord.started(node: node, hostname: options.hostname, version: MonitorVersion.string,
                                            at: Date().timeIntervalSince1970, previous: previous)
            try client.put(key, value: record.encoded())
            registryRecord = record
        } catch {
            logger.info("registry \(key) not written (\(error)); retrying at the next registration")
        }
    }

    private func updateStatus() {
        let config = store.config
        var line: String
        switch sessionState {
        case .connecting:
            line = "connecting to etcd (\(settings.etcd.endpoints.joined(separator: ",")))"
        case let .alive(lease):
            line = "lease \(LeaseSession.hex(lease.id)) alive, interval \(AgentConfig.format(seconds: config.interval))"
        case let .unreachable(reason, retryIn):
            line = "etcd unreachable (\(reason)), retrying in \(AgentConfig.format(seconds: max(1, retryIn.rounded())))"
        }
        if store.configError != nil { line += ", config rejected (see log)" }
        guard line != lastStatus else { return }
        lastStatus = line
        notify { try SystemdNotifier.status(line) }
    }

    // MARK: Lifecycle

    private func startComponents() {
        let c = AgentComponents(settings: settings, node: node, layout: layout, store: store, progress: progress,
                                tick: runtime.workerTick, logger: logger, mailbox: mailbox, makeValue: { [unowned self] in
            heartbeatValue(status: Heartbeat.alive)
        })
        components = c
        c.start()
    }

    /// SIGTERM: STOPPING=1, mark the heartbeat as stopping, revoke the lease, and
    /// return within a second even when etcd is gone.
    private func stop() {
        notify { try SystemdNotifier.stopping() }
        notify { try SystemdNotifier.status("stopping") }
        let revoked = components?.shutdown(registry: registryRecord.map { (layout.registry(node), $0.stopping(at: Date().timeIntervalSince1970).encoded()) },
                                           markStopping: { [unowned self] in heartbeatValue(status: Heartbeat.stopping) }) ?? false
        logger.notice("stopped\(revoked ? ": heartbeat marked stopping, lease revoked" : " (etcd unreachable, lease left to expire)")",
                      metadata: ["node": "\(node)", "event": "STOPPED"])
    }

    /// SIGHUP: re-read the settings; re-register only when etcd or agent settings changed.
    private func reload() {
        defer { runtime.reloaded() }
        guard let new = runtime.reloadSettings(path: options.configPath, required: options.configRequired) else { return }
        let newNode = new.resolvedNodeName(hostname: options.hostname)
        guard new.etcd != settings.etcd || new.agent != settings.agent else {
            settings = new
            logger.notice("settings reloaded from \(options.configPath); nothing to re-register", metadata: ["event": "RELOADED"])
            return
        }
        logger.notice("settings reloaded from \(options.configPath); re-registering (node \(node) -> \(newNode), etcd \(new.etcd.endpoints.joined(separator: ",")), TTL \(new.agent.leaseTTLSec)s)",
                      metadata: ["event": "RELOADED"])
        var carried: Lease?
        if newNode != node {
            // The old name leaves cleanly: its key is marked and deleted now.
            _ = components?.shutdown(registry: registryRecord.map { (layout.registry(node), $0.stopping(at: Date().timeIntervalSince1970).encoded()) },
                                     markStopping: { [unowned self] in heartbeatValue(status: Heartbeat.stopping) })
            registryRecord = nil
        } else {
            // Same name: the new lease takes the key over, then the old lease goes.
            carried = components?.detach()
        }
        settings = new
        node = newNode
        logger[metadataKey: "node"] = "\(newNode)"
        layout = KeyLayout(prefix: new.etcd.keyPrefix)
        sessionState = .connecting
        startComponents()
        components?.replacedLease = carried
        updateStatus()
    }

    private func notify(_ body: () throws -> Bool) { runtime.notify(body) }
}
