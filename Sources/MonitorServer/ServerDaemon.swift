import Concurrency
import DaemonKit
import EtcdClient
import FleetModel
import Logging
import MonitorSettings

/// monitor-serverd's daemon, run by the `Supervisor`. Owns the fleet state and
/// the heartbeat watch worker, which only posts what it sees. Logs one line per
/// node transition and a periodic summary; its STATUS is the fleet's counts.
/// All its deadlines (stale nodes, summary) are on the monotonic clock: the
/// fleet state is fed monotonic seconds, so a wall-clock step can neither turn
/// the fleet stale nor delay a deadline. Keeps etcd's history bounded: every
/// `HistoryRetentionSec` a worker compacts etcd to the revision the server saw
/// one period earlier (as kube-apiserver does), since every heartbeat put adds
/// about 512 bytes of history that etcd keeps until compacted. A full etcd is
/// named and a stray delete is no death: STALE and DEAD verdicts go through a
/// `VerdictGate`, which has etcd's alarm list and the node's lease checked
/// first. Ends with `stop()`.
public final class ServerDaemon: Daemon {
    public enum Message: Sendable {
        case watch(ResumableWatch.Update)
        /// The compactor's answer: nil when etcd's history now starts at `revision`
        /// (or already did), else why not.
        case compacted(revision: Int64, failure: String?)
        /// etcd's alarm list: whether NOSPACE is raised; nil when it could not be read.
        case alarms(noSpace: Bool?)
        /// The seconds a node's lease has left (nil: gone), asked when its key
        /// disappeared; `known` is false when etcd could not be asked.
        case leaseChecked(node: String, lease: Int64, ttl: Int64?, known: Bool)
    }

    /// What the maintenance worker is asked to do.
    enum MaintenanceRequest: Sendable {
        case compact(Int64)
        case checkAlarms
        case checkLease(node: String, lease: Int64)
        case stop
    }

    public static let mainLoop = "main loop"
    static let watchWorker = "heartbeat watch"
    static let maintenanceWorker = "etcd maintenance"

    private var settings: Settings
    private let logger: Logger
    private let context: DaemonContext<Message>
    private var fleet: FleetState
    private var workers: WorkerGroup<Message>?
    private var watchUp: Bool?
    private var synced = false
    private var nextSummary: MonotonicInstant?
    /// The fleet deadline, cached per event.
    private var fleetDeadline: MonotonicInstant?
    /// The newest store revision the watch has shown.
    private var latestRevision: Int64 = 0
    /// The revision seen at the previous compaction tick: history before it is
    /// at least one retention period old.
    private var revisionAtLastTick: Int64 = 0
    private var nextCompaction: MonotonicInstant?
    private var maintenance: Mailbox<MaintenanceRequest>?
    private var compactionFailing = false
    private var gate = VerdictGate()

    public init(settings: Settings, logger: Logger, context: DaemonContext<Message>) {
        self.settings = settings
        self.logger = logger
        self.context = context
        fleet = Self.makeFleet(settings)
    }

    static func makeFleet(_ settings: Settings) -> FleetState {
        FleetState(layout: KeyLayout(prefix: settings.etcd.keyPrefix),
                   rules: FleetView.Rules(staleAfterRounds: settings.server.staleAfterRounds),
                   thresholds: .init(cpuPercent: settings.server.cpuWarnPercent,
                                     memoryPercent: settings.server.memoryWarnPercent))
    }

    public func start(now: MonotonicInstant) {
        startWatch()
        logger.info("monitor-serverd \(MonitorVersion.string) started, watching \(settings.etcd.keyPrefix)/ on \(settings.etcd.endpoints.joined(separator: ","))",
                    metadata: ["event": "STARTED"])
        nextSummary = summaryInterval.map { now + $0 }
        nextCompaction = retention.map { now + $0 }
    }

    public var nextDeadline: MonotonicInstant? {
        [fleetDeadline, nextSummary, nextCompaction, gate.nextDeadline].compactMap { $0 }.min()
    }

    public func deadlineReached(now: MonotonicInstant) {
        if let deadline = fleetDeadline, now >= deadline {
            report(fleet.tick(now: now.seconds), now: now)
            refreshDeadline()
        }
        if let due = nextSummary, now >= due {
            logSummary(now: now)
            nextSummary = summaryInterval.map { now + $0 }
        }
        if let due = gate.nextDeadline, now >= due {
            apply(gate.deadlineReached(now: now), now: now)
        }
        if let due = nextCompaction, now >= due {
            if revisionAtLastTick > 0 { maintenance?.post(.compact(revisionAtLastTick)) }
            revisionAtLastTick = latestRevision
            nextCompaction = retention.map { now + $0 }
        }
    }

    public func handle(_ message: Message, now: MonotonicInstant) {
        switch message {
        case let .watch(update):
            handle(update, now: now)
        case let .compacted(revision, failure):
            if let failure {
                if !compactionFailing {
                    logger.warning("compacting etcd's history to revision \(revision) failed (\(failure)); retrying every \(settings.server.historyRetentionSec) s",
                                   metadata: ["event": "COMPACTION_FAILED"])
                }
                compactionFailing = true
            } else {
                if compactionFailing { logger.notice("compacting etcd's history works again", metadata: ["event": "COMPACTED"]) }
                compactionFailing = false
                logger.debug("compacted etcd's history to revision \(revision)", metadata: ["event": "COMPACTED"])
            }
        case let .alarms(noSpace):
            apply(gate.alarmsRead(noSpace: noSpace, now: now, isStale: { fleet.state(of: $0) == .stale }), now: now)
        case let .leaseChecked(node, lease, ttl, known):
            apply(gate.leaseChecked(node: node, lease: lease, ttl: ttl, known: known, now: now,
                                    stillDead: fleet.state(of: node) == .dead), now: now)
        }
        refreshDeadline()
    }

    private func handle(_ update: ResumableWatch.Update, now: MonotonicInstant) {
        switch update {
        case let .snapshot(kvs, revision):
            latestRevision = max(latestRevision, revision)
            let transitions = fleet.apply(snapshot: kvs.map { FleetChange(key: $0.key, value: $0.value, lease: $0.lease) }, now: now.seconds)
            logger.info("read \(kvs.count) key\(kvs.count == 1 ? "" : "s") under \(settings.etcd.keyPrefix)/ at revision \(revision); watching from \(revision + 1)",
                        metadata: ["event": "SYNCED"])
            synced = true
            report(transitions, now: now)
        case let .events(events, revision):
            latestRevision = max(latestRevision, revision)
            let changes = events.map {
                FleetChange(key: $0.kv.key, value: $0.kind == .put ? $0.kv.value : nil, previous: $0.previous?.value,
                            lease: $0.kind == .put ? $0.kv.lease : nil, previousLease: $0.previous?.lease)
            }
            report(fleet.apply(changes: changes, now: now.seconds), now: now)
        case .connected:
            if watchUp == false {
                logger.notice("heartbeat watch resumed", metadata: ["event": "WATCH_RESUMED"])
            }
            watchUp = true
        case let .disconnected(error, retryIn):
            if watchUp != false {
                logger.warning("heartbeat watch interrupted (\(error.shortReason)), resuming in \(Interval.text(retryIn, decimals: 1)) from the next revision",
                               metadata: ["event": "WATCH_INTERRUPTED"])
            }
            watchUp = false
        }
    }

    private func refreshDeadline() {
        fleetDeadline = fleet.nextDeadline().map { MonotonicInstant(nanoseconds: UInt64(max(0, $0 * 1e9))) }
    }

    /// Logs transitions; STALE and DEAD ones first pass the gate.
    private func report(_ transitions: [FleetState.Transition], now: MonotonicInstant) {
        apply(gate.transitions(transitions, lease: { fleet.roundLease(of: $0) }), now: now)
    }

    /// Carries out what the gate decided.
    private func apply(_ out: VerdictGate.Output, now: MonotonicInstant) {
        if !out.pardon.isEmpty { fleet.pardon(out.pardon, now: now.seconds) }
        log(out.log, now: now)
        for notice in out.notices {
            switch notice {
            case let .etcdFull(silenced):
                let nodes = "\(silenced) node\(silenced == 1 ? "" : "s") without a new round \(silenced == 1 ? "is" : "are")"
                let line = "etcd is out of space (NOSPACE alarm): no agent can write its rounds, so \(nodes) not reported STALE; "
                    + "rounds are unknown until space is freed (compact, defragment, etcdctl alarm disarm)"
                logger.error("\(line)", metadata: ["event": "ETCD_NOSPACE"])
            case .etcdWritable:
                logger.notice("etcd accepts writes again (NOSPACE alarm cleared); nodes whose rounds do not resume are reported STALE a full period from now",
                              metadata: ["event": "ETCD_WRITES_RESUMED"])
            case let .tampered(node):
                logger.warning("node \(node): its heartbeat key was deleted by another writer while its lease was alive; not reported DEAD",
                               metadata: ["node": "\(node)", "event": "HEARTBEAT_TAMPERED"])
            }
        }
        for request in out.requests {
            switch request {
            case .checkAlarms: maintenance?.post(.checkAlarms)
            case let .checkLease(node, lease): maintenance?.post(.checkLease(node: node, lease: lease))
            }
        }
    }

    private func log(_ transitions: [FleetState.Transition], now: MonotonicInstant) {
        for t in transitions {
            let metadata: Logger.Metadata = [
                "node": "\(t.node)", "event": "\(t.event.rawValue)", "state": "\(t.state.rawValue)",
                "message_id": "\(TransitionMessageID.id(for: t.event))",
            ]
            let line = "node \(t.node) \(t.event.rawValue) (\(t.detail))"
            switch t.event {
            case .alive, .left, .cpuOK, .memoryOK: logger.notice("\(line)", metadata: metadata)
            case .dead, .stale, .cpuHigh, .memoryHigh: logger.warning("\(line)", metadata: metadata)
            }
            if t.event == .alive, let error = fleet.node(named: t.node, now: now.seconds)?.valueError {
                logger.warning("node \(t.node): \(error)", metadata: ["node": "\(t.node)", "event": "BAD_VALUE"])
            }
        }
    }

    private var retention: Double? {
        settings.server.historyRetentionSec > 0 ? Double(settings.server.historyRetentionSec) : nil
    }

    private var summaryInterval: Double? {
        settings.server.summaryIntervalSec > 0 ? Double(settings.server.summaryIntervalSec) : nil
    }

    /// The periodic one-line fleet summary, with the busiest nodes.
    private func logSummary(now: MonotonicInstant) {
        let view = fleet.view(now: now.seconds)
        var line = "fleet: \(view.summary)"
        for metric in [MetricName.cpu, .memory] {
            let alive = view.nodes.filter { $0.state == .alive }
            if let top = alive.compactMap({ n in n[metric].map { (n.name, $0) } }).max(by: { $0.1 < $1.1 }) {
                line += "; highest \(metric.rawValue) \(FixedPoint.text(top.1, places: 1))% (\(top.0))"
            }
        }
        logger.info("\(line)", metadata: ["event": "SUMMARY"])
    }

    public var status: String {
        var line = fleet.summary
        if !synced { line = "reading heartbeats from etcd" }
        if watchUp == false { line += "; etcd unreachable, watch retrying" }
        if gate.etcdFull { line += "; etcd out of space (NOSPACE): rounds unknown" }
        return line
    }

    private func startWatch() {
        let layout = KeyLayout(prefix: settings.etcd.keyPrefix)
        let client = EtcdClient(endpoints: settings.etcd.endpoints, requestTimeout: settings.etcd.requestTimeoutSec)
        // One watch over the whole prefix: heartbeats and registry in one ordered stream.
        let watch = ResumableWatch(client: client, key: layout.prefix + "/", prefix: true, tick: context.workerTick)
        let group = context.makeWorkers()
        group.start(Self.watchWorker, stop: { watch.stop() }) {
            watch.run(onIdle: { group.beat(Self.watchWorker) }) { update in
                group.beat(Self.watchWorker)
                group.post(.watch(update))
            }
        }
        // Compaction and alarm reads on their own thread: they wait for etcd, the loop must not.
        let requests = Mailbox<MaintenanceRequest>()
        let tick = context.workerTick
        group.start(Self.maintenanceWorker, stop: { requests.post(.stop) }) {
            while true {
                group.beat(Self.maintenanceWorker)
                switch requests.next(timeout: tick) {
                case nil: continue
                case .stop: return
                case let .compact(revision):
                    do {
                        try client.compact(revision: revision, physical: false)
                        group.post(.compacted(revision: revision, failure: nil))
                    } catch EtcdError.compacted {
                        // Another server, or etcd's own auto-compaction, was there first.
                        group.post(.compacted(revision: revision, failure: nil))
                    } catch {
                        group.post(.compacted(revision: revision, failure: (error as? EtcdError)?.shortReason ?? "\(error)"))
                    }
                case .checkAlarms:
                    group.post(.alarms(noSpace: (try? client.alarms()).map { $0.contains("NOSPACE") }))
                case let .checkLease(node, lease):
                    let ttl = Result { try client.timeToLive(lease) }
                    group.post(.leaseChecked(node: node, lease: lease, ttl: (try? ttl.get()) ?? nil, known: (try? ttl.get()) != nil))
                }
            }
        }
        maintenance = requests
        workers = group
    }

    private func stopWatch() {
        if let late = workers?.stopAll(deadline: .now() + 0.5), !late.isEmpty {
            logger.info("\(late.joined(separator: ", ")) did not end within 0.5 s; leaving it behind, ignoring")
        }
        workers = nil
    }

    public func stop() {
        stopWatch()
        logger.notice("stopped", metadata: ["event": "STOPPED"])
    }

    public func reload(_ new: Settings, now: MonotonicInstant) {
        let etcdChanged = new.etcd != settings.etcd
        settings = new
        if etcdChanged {
            logger.notice("settings reloaded; reconnecting to etcd \(new.etcd.endpoints.joined(separator: ","))", metadata: ["event": "RELOADED"])
            stopWatch()
            fleet = Self.makeFleet(new)
            synced = false
            // Another cluster's revisions and alarms mean nothing here.
            latestRevision = 0
            revisionAtLastTick = 0
            gate.reset()
            startWatch()
        } else {
            let fresh = Self.makeFleet(new)
            fleet.rules = fresh.rules
            fleet.thresholds = fresh.thresholds
            logger.notice("settings reloaded from \(context.settingsPath)", metadata: ["event": "RELOADED"])
        }
        nextSummary = summaryInterval.map { now + $0 }
        nextCompaction = retention.map { now + $0 }
        refreshDeadline()
    }
}
