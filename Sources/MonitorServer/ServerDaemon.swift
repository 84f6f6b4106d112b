import Concurrency
import Glibc
import DaemonKit
import EtcdClient
import FleetModel
import HTTPServer
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
/// first. Any number of servers may watch one fleet: they elect a leader
/// (`Leadership`), which alone logs transitions as events and records each
/// node's state under `<prefix>/state/<node>` (one fenced write per
/// transition, batched, by its own worker); standbys keep the same view warm
/// and, on taking over, report exactly what differs from the records. Ends
/// with `stop()`, which resigns (revokes the election lease) so a standby leads
/// within milliseconds. With `[Server] Listen`, an `HTTPServer` serves
/// /metrics, the fleet page and /healthz on its own threads from a
/// `FleetSnapshotBox` that this loop refills when something changed, at most
/// every 0.25 s (longer for a fleet whose view takes long to build: at most 2 %
/// of the loop's time), and every 5 s regardless: a scrape never touches the
/// loop, and nobody scraping costs nothing but that.
public final class ServerDaemon: Daemon {
    public enum Message: Sendable {
        case watch(ResumableWatch.Update)
        /// The compactor's answer: nil when etcd's history now starts at `revision`
        /// (or already did), else why not.
        case compacted(revision: Int64, failure: String?)
        /// etcd's alarm list: whether NOSPACE is raised; nil when it could not
        /// be read, and then why.
        case alarms(noSpace: Bool?, failure: String?)
        /// The seconds a node's lease has left (nil: gone), asked when its key
        /// disappeared; `known` is false when etcd could not be asked.
        case leaseChecked(node: String, lease: Int64, ttl: Int64?, known: Bool)
        /// The election lease's session.
        case election(SessionEvent)
        /// A campaign's answer: nil when etcd could not be asked.
        case campaigned(lease: Int64, won: Bool?)
        /// The state writer's answer for these nodes.
        case statesWritten(nodes: [String], outcome: StateWriter.Outcome)
    }

    /// What the maintenance worker is asked to do.
    enum MaintenanceRequest: Sendable {
        case compact(Int64)
        case checkAlarms
        case checkLease(node: String, lease: Int64)
        case campaign(lease: Int64, value: [UInt8])
        case stop
    }

    public static let mainLoop = "main loop"
    static let watchWorker = "heartbeat watch"
    static let maintenanceWorker = "etcd maintenance"
    static let electionWorker = "election lease"
    /// How long after a failed state write to try again.
    static let stateRetryDelay = 2.0

    private var settings: Settings
    private let logger: Logger
    private let context: DaemonContext<Message>
    private var fleet: FleetState
    private var workers: WorkerGroup<Message>?
    private var watchUp: Bool?
    /// Since when (wall clock, for people) the view is frozen; nil while live.
    private var frozenSince: Double?
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
    private var leadership: Leadership
    /// Leading, and the stored records compared with the view: transitions are
    /// reported from here on.
    private var reporting = false
    private var election: LeaseSession?
    private var stateWriter: StateWriter?
    /// Nodes whose record is to be (re)written, and when to retry failed writes.
    private var unwritten = Set<String>()
    private var nextStateRetry: MonotonicInstant?
    /// State writes are failing (said once, until one goes through).
    private var stateWritesFailing = false
    private let hostname: String
    /// TLS files and the etcd user of the settings in force.
    private var access: EtcdAccess?
    /// What the HTTP listener serves, and the listener (nil: off or not bound).
    private let snapshots = FleetSnapshotBox()
    private var http: HTTPServer?
    /// Why the listener is not there although `Listen` asks for one.
    private var httpFailure: String?
    /// The address the listener was started for.
    private var listening: ListenAddress?
    private var nextPublish: MonotonicInstant?
    private var lastPublished: MonotonicInstant?
    /// Seconds the latest publication took (a view of every node).
    private var publishSeconds = 0.0
    private var lastEventAt: Double?
    private var etcdErrors = 0
    private var transitionCounts: [String: [String: Int]] = [:]

    public init(settings: Settings, logger: Logger, context: DaemonContext<Message>,
                hostname: String = CommandSupport.hostname()) {
        self.settings = settings
        self.logger = logger
        self.context = context
        self.hostname = hostname
        fleet = Self.makeFleet(settings)
        leadership = Leadership(holdoff: Double(settings.server.electionTTLSec))
        access = Self.access(settings.etcd.credentials)
    }

    static func access(_ c: EtcdCredentials) -> EtcdAccess? {
        EtcdAccess.of(caFile: c.caFile, certFile: c.certFile, keyFile: c.keyFile, username: c.username,
                      password: c.password?.value)
    }

    static func makeFleet(_ settings: Settings) -> FleetState {
        var fleet = FleetState(layout: KeyLayout(prefix: settings.etcd.keyPrefix),
                               rules: FleetView.Rules(staleAfterRounds: settings.server.staleAfterRounds),
                               thresholds: .init(cpuPercent: settings.server.cpuWarnPercent,
                                                 memoryPercent: settings.server.memoryWarnPercent))
        fleet.measuresClockSkew = true
        return fleet
    }

    public func start(now: MonotonicInstant) {
        startWatch()
        logger.info("monitor-serverd \(MonitorVersion.string) started, watching \(settings.etcd.keyPrefix)/ on \(settings.etcd.endpoints.joined(separator: ","))",
                    metadata: ["event": "STARTED"])
        nextSummary = summaryInterval.map { now + $0 }
        nextCompaction = retention.map { now + $0 }
        startListener(now: now)
    }

    public var nextDeadline: MonotonicInstant? {
        [fleetDeadline, nextSummary, nextCompaction, gate.nextDeadline, leadership.nextRetry, nextStateRetry, nextPublish]
            .compactMap { $0 }.min()
    }

    public func deadlineReached(now: MonotonicInstant) {
        if let deadline = fleetDeadline, now >= deadline {
            report(fleet.tick(now: now.seconds), now: now)
            refreshDeadline()
            changed(now: now)
        }
        if let due = nextPublish, now >= due { publish(now: now) }
        if let due = nextSummary, now >= due {
            logSummary(now: now)
            nextSummary = summaryInterval.map { now + $0 }
        }
        if let due = gate.nextDeadline, now >= due {
            apply(gate.deadlineReached(now: now), now: now)
        }
        if let due = leadership.nextRetry, now >= due {
            act(leadership.deadlineReached(now: now), now: now)
        }
        if let due = nextStateRetry, now >= due {
            nextStateRetry = nil
            writeStates(Array(unwritten))
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
            if failure != nil { etcdErrors += 1 }
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
        case let .alarms(noSpace, failure):
            apply(gate.alarmsRead(noSpace: noSpace, failure: failure, now: now, isStale: { fleet.state(of: $0) == .stale }),
                  now: now)
        case let .leaseChecked(node, lease, ttl, known):
            apply(gate.leaseChecked(node: node, lease: lease, ttl: ttl, known: known, now: now,
                                    stillDead: fleet.state(of: node) == .dead), now: now)
        case let .election(event):
            handle(event, now: now)
        case let .campaigned(lease, won):
            act(leadership.campaigned(lease: lease, won: won, now: now), now: now)
        case let .statesWritten(nodes, outcome):
            handleWritten(nodes, outcome, now: now)
        }
        refreshDeadline()
        changed(now: now)
    }

    // MARK: HTTP

    /// Starts the listener `Listen` asks for; a failure is logged and shown in
    /// STATUS, and the server runs on without it (its verdicts matter more).
    private func startListener(now: MonotonicInstant) {
        httpFailure = nil
        listening = settings.server.listen
        guard let address = settings.server.listen else { return }
        let endpoints = FleetEndpoints(box: snapshots)
        do {
            let server = try HTTPServer(host: address.host, port: address.port) { endpoints.answer($0) }
            http = server
            let bound = ListenAddress(host: address.host, port: server.port)
            logger.info("serving /metrics and the fleet page on http://\(bound)/", metadata: ["event": "HTTP_LISTENING"])
        } catch {
            httpFailure = "\(error)"
            logger.error("no HTTP listener: \(error) ([Server] Listen in \(context.settingsPath)); monitoring goes on without /metrics",
                         metadata: ["event": "HTTP_FAILED"])
        }
        publish(now: now)
    }

    private func stopListener() {
        http?.stop()
        http = nil
    }

    /// Notes that the view may differ from the published one; publishes at most
    /// every `publishGap` seconds.
    private func changed(now: MonotonicInstant) {
        guard http != nil else { return }
        var due = lastPublished.map { $0 + publishGap } ?? now
        if due < now { due = now }
        if let next = nextPublish, next <= due { return }
        nextPublish = due
    }

    /// `FleetSnapshotBox.coalesce`, or longer for a fleet whose view takes long to
    /// build, so publishing never takes more than 2 % of the loop's time (at
    /// 10,000 nodes a view takes about 15 ms: at most one every 0.75 s).
    private var publishGap: Double { max(FleetSnapshotBox.coalesce, publishSeconds * 50) }

    /// Builds the snapshot the listener serves (a view in wall-clock seconds).
    private func publish(now: MonotonicInstant) {
        guard http != nil else { nextPublish = nil; return }
        let started = MonotonicClock.now()
        let offset = Self.wallOffset()
        let nodes = fleet.view(now: now.seconds).nodes.map { node -> FleetView.Node in
            var node = node
            node.since = node.since.map { $0 + offset }
            node.lastSeen = node.lastSeen.map { $0 + offset }
            node.stateSource = .server
            return node
        }
        let wallNow = now.seconds + offset
        snapshots.publish(FleetSnapshot(
            view: FleetView(nodes: nodes, now: wallNow), leader: leadership.holder?.record,
            leading: leadership.isLeading, synced: synced, watchConnected: watchUp, frozenSince: frozenSince,
            lastEventAt: lastEventAt, etcdErrors: etcdErrors, transitions: transitionCounts,
            staleAfterRounds: settings.server.staleAfterRounds, publishedAt: wallNow))
        publishSeconds = MonotonicClock.now() - started
        lastPublished = now
        nextPublish = now + FleetSnapshotBox.refresh
    }

    // MARK: Leadership

    private func handle(_ event: SessionEvent, now: MonotonicInstant) {
        switch event {
        case let .granted(lease):
            logger.debug("election lease \(lease.id) granted (TTL \(lease.ttl) s)")
            act(leadership.leaseGranted(lease.id, now: now), now: now)
        case .renewed, .unreachable:
            break // the watch says when etcd is out of reach
        case .lost:
            act(leadership.leaseLost(), now: now)
        }
    }

    /// Carries out what the election decided.
    private func act(_ actions: [Leadership.Action], now: MonotonicInstant) {
        for action in actions {
            switch action {
            case let .campaign(lease):
                let record = LeaderRecord(server: hostname, pid: Int(getpid()), since: WallClock.now(),
                                          version: MonitorVersion.string)
                maintenance?.post(.campaign(lease: lease, value: record.encoded()))
            case .lead:
                logger.notice("leading: this server now reports transitions and records node states",
                              metadata: ["event": "LEADING"])
                startReporting(now: now)
            case let .follow(leader):
                logger.notice("standby: the leader is \(leader)", metadata: ["event": "LEADER_CHANGED"])
            case let .stepDown(why):
                reporting = false
                unwritten = []
                nextStateRetry = nil
                let leader = leadership.leaderText.map { "; leader is \($0)" } ?? ""
                logger.warning("standby: no longer leading (\(why))\(leader)", metadata: ["event": "STANDBY"])
            }
        }
    }

    /// Leading and synced: report what differs between the stored records and
    /// this view (what happened while nobody led), record the nodes without
    /// one, then report every transition as it comes.
    private func startReporting(now: MonotonicInstant) {
        guard leadership.isLeading, synced, !reporting else { return }
        reporting = true
        fleet.wallOffset = Self.wallOffset()
        let (transitions, unrecorded) = fleet.differences()
        if !transitions.isEmpty {
            logger.info("\(transitions.count) transition\(transitions.count == 1 ? "" : "s") since the last record (while no server led)",
                        metadata: ["event": "TAKEOVER"])
        }
        report(transitions, now: now)
        writeStates(unrecorded)
    }

    /// Queues the current record of `nodes` for the state writer.
    private func writeStates(_ nodes: [String]) {
        guard reporting, let lease = leadership.lease, !nodes.isEmpty else { return }
        fleet.wallOffset = Self.wallOffset()
        var batch: [(node: String, value: [UInt8])] = []
        for node in Set(nodes).sorted() {
            guard let record = fleet.record(of: node, server: hostname) else { unwritten.remove(node); continue }
            unwritten.insert(node)
            batch.append((node, record.encoded()))
        }
        if !batch.isEmpty { stateWriter?.write(batch, fence: lease) }
    }

    private func handleWritten(_ nodes: [String], _ outcome: StateWriter.Outcome, now: MonotonicInstant) {
        switch outcome {
        case .written:
            unwritten.subtract(nodes)
            if stateWritesFailing {
                stateWritesFailing = false
                logger.notice("recording node states works again", metadata: ["event": "STATE_WRITES_RESUMED"])
            }
        case .fenced:
            act(leadership.fenced(), now: now)
        case let .failed(reason):
            etcdErrors += 1
            if !stateWritesFailing {
                logger.warning("recording the state of \(nodes.count) node\(nodes.count == 1 ? "" : "s") failed (\(reason)); retrying in \(Interval.text(Self.stateRetryDelay))",
                               metadata: ["event": "STATE_WRITE_FAILED"])
                stateWritesFailing = true
            }
            if nextStateRetry == nil { nextStateRetry = now + Self.stateRetryDelay }
        }
    }

    /// Whether `record` names a server on this host whose process is gone: this
    /// server's own predecessor, crashed and restarted (by systemd) while its
    /// lease still holds the key.
    private func isDeadPredecessor(_ record: LeaderRecord) -> Bool {
        guard record.server == hostname, record.pid > 0, record.pid != Int(getpid()) else { return false }
        return kill(pid_t(record.pid), 0) != 0 && errno == ESRCH
    }

    /// Wall-clock seconds minus monotonic ones, now.
    private static func wallOffset() -> Double { WallClock.now() - MonotonicClock.now() }

    private func handle(_ update: ResumableWatch.Update, now: MonotonicInstant) {
        if case .disconnected = update {} else { lastEventAt = WallClock.now() }
        switch update {
        case let .snapshot(kvs, revision):
            thaw(now: now)
            latestRevision = max(latestRevision, revision)
            fleet.wallOffset = Self.wallOffset()
            let transitions = fleet.apply(snapshot: kvs.map { FleetChange(key: $0.key, value: $0.value, lease: $0.lease) }, now: now.seconds)
            logger.info("read \(kvs.count) key\(kvs.count == 1 ? "" : "s") under \(settings.etcd.keyPrefix)/ at revision \(revision); watching from \(revision + 1)",
                        metadata: ["event": "SYNCED"])
            let leaderKey = layout.leader
            let leader = kvs.first { $0.key == leaderKey }
            if !synced { logKnownStates(now: now) }
            synced = true
            let predecessor = leader.flatMap { LeaderRecord.parse($0.value) }.map(isDeadPredecessor) ?? false
            act(leadership.leaderKey(value: leader?.value, lease: leader?.lease ?? 0, now: now,
                                     heldByDeadPredecessor: predecessor), now: now)
            report(transitions, now: now)
            startReporting(now: now)
        case let .events(events, revision):
            latestRevision = max(latestRevision, revision)
            let changes = events.map {
                FleetChange(key: $0.kv.key, value: $0.kind == .put ? $0.kv.value : nil, previous: $0.previous?.value,
                            lease: $0.kind == .put ? $0.kv.lease : nil, previousLease: $0.previous?.lease)
            }
            fleet.wallOffset = Self.wallOffset()
            report(fleet.apply(changes: changes, now: now.seconds), now: now)
            let leaderKey = layout.leader
            for event in events where event.kv.key == leaderKey {
                act(leadership.leaderKey(value: event.kind == .put ? event.kv.value : nil, lease: event.kv.lease, now: now), now: now)
            }
        case let .connected(endpoint):
            thaw(now: now, endpoint: endpoint)
            watchUp = true
        case .heard:
            break
        case let .disconnected(error, retryIn):
            etcdErrors += 1
            if watchUp != false { freeze(error, retryIn: retryIn, now: now) }
            watchUp = false
        }
        // Whatever the watch delivered, its member was there after the STALE
        // verdicts reached before now.
        if case .disconnected = update { return }
        apply(gate.watchHeard(now: now), now: now)
    }

    /// One line per node that is not alive when the server first reads the
    /// fleet, with since when (from the stored record when a server wrote one):
    /// what it knows, not a transition.
    private func logKnownStates(now: MonotonicInstant) {
        let offset = Self.wallOffset()
        for node in fleet.view(now: now.seconds).nodes where node.state != .alive {
            let since = node.since.map { WallClock.text($0 + offset) } ?? "an unknown time"
            let seen = node.lastSeen.map { ", last seen \(WallClock.text($0 + offset))" } ?? ""
            logger.info("node \(node.name) \(node.state.rawValue) since \(since)\(seen), known at start",
                        metadata: ["node": "\(node.name)", "state": "\(node.state.rawValue)", "event": "KNOWN_AT_START"])
        }
    }

    /// The watch broke: from now on missing rounds prove nothing, so the view
    /// keeps every state (no STALE, no DEAD) until the watch is back; STALE
    /// verdicts it had not confirmed yet are dropped.
    private func freeze(_ error: EtcdError, retryIn: Double, now: MonotonicInstant) {
        fleet.freeze()
        apply(gate.watchLost(), now: now)
        let since = WallClock.now()
        frozenSince = since
        logger.warning("fleet view frozen: etcd unreachable since \(WallClock.text(since)) (\(error.shortReason)); no node is judged stale or dead from missing rounds until the watch is back (retrying in \(Interval.text(retryIn, decimals: 1)), from the next revision)",
                       metadata: ["event": "VIEW_FROZEN"])
        refreshDeadline()
    }

    /// The watch is back on `endpoint` (or etcd's state was read again): what it
    /// missed follows in order, and every alive node gets a full stale window
    /// from now before it can be reported STALE.
    private func thaw(now: MonotonicInstant, endpoint: String? = nil) {
        guard fleet.frozen, let since = frozenSince else { return }
        fleet.thaw(now: now.seconds)
        frozenSince = nil
        let blind = max(0, WallClock.now() - since)
        logger.notice("fleet view live again after \(Interval.text(blind, decimals: 1)) blind\(endpoint.map { ": watching on \($0)" } ?? ""), from the next revision; a node without a new round turns stale only after a full window from now",
                      metadata: ["event": "VIEW_LIVE"])
    }

    private func refreshDeadline() {
        fleetDeadline = fleet.nextDeadline().map { MonotonicInstant(nanoseconds: UInt64(max(0, $0 * 1e9))) }
    }

    /// Logs transitions; STALE and DEAD ones first pass the gate.
    private func report(_ transitions: [FleetState.Transition], now: MonotonicInstant) {
        apply(gate.transitions(transitions, now: now, lease: { fleet.roundLease(of: $0) }), now: now)
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
            case let .alarmsUnreadable(reason):
                // Silent degradation would be a lie of omission: say what the
                // server cannot tell any more.
                logger.warning("""
                    cannot read etcd's alarm list (\(reason)), so a NOSPACE alarm (etcd full: no agent can write its rounds) \
                    cannot be told from hung agents and STALE verdicts stand; some etcd versions let only root read \
                    alarms: watch etcd's database size against its quota (etcd_mvcc_db_total_size_in_bytes)
                    """, metadata: ["event": "ALARMS_UNREADABLE"])
            case .alarmsReadable:
                logger.notice("etcd's alarm list is readable again", metadata: ["event": "ALARMS_READABLE"])
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

    /// Logs the transitions as events and records the state changes, when this
    /// server reports; a standby only mentions them at debug level.
    private func log(_ transitions: [FleetState.Transition], now: MonotonicInstant) {
        for t in transitions { transitionCounts[t.node, default: [:]][t.event.rawValue, default: 0] += 1 }
        guard reporting else {
            for t in transitions where t.event.isStateChange {
                logger.debug("standby: node \(t.node) \(t.event.rawValue) (\(t.detail)), reported by the leader")
            }
            return
        }
        writeStates(transitions.filter(\.event.isRecorded).map(\.node))
        for t in transitions {
            let metadata: Logger.Metadata = [
                "node": "\(t.node)", "event": "\(t.event.rawValue)", "state": "\(t.state.rawValue)",
                "message_id": "\(TransitionMessageID.id(for: t.event))",
            ]
            let line = "node \(t.node) \(t.event.rawValue) (\(t.detail))"
            switch t.event {
            case .alive, .left, .cpuOK, .memoryOK, .clockOK: logger.notice("\(line)", metadata: metadata)
            case .dead, .stale, .cpuHigh, .memoryHigh, .clockSkew, .nameConflict: logger.warning("\(line)", metadata: metadata)
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
        if synced && !leadership.isLeading {
            line = "standby, " + (leadership.leaderText.map { "leader is \($0)" } ?? "no leader yet") + "; " + line
        }
        if let since = frozenSince { line += "; view frozen since \(WallClock.text(since)): etcd unreachable, watch retrying" }
        if gate.etcdFull { line += "; etcd out of space (NOSPACE): rounds unknown" }
        if let failure = httpFailure { line += "; no HTTP listener (\(failure))" }
        return line
    }

    private var layout: KeyLayout { KeyLayout(prefix: settings.etcd.keyPrefix) }

    /// A client of its own (calls of one client wait for each other), with the
    /// process's TLS files and etcd user; one token serves all of them.
    private func newClient(timeout: Double? = nil) -> EtcdClient {
        EtcdClient(endpoints: settings.etcd.endpoints, requestTimeout: timeout ?? settings.etcd.requestTimeoutSec,
                   access: access)
    }

    private func startWatch() {
        let layout = self.layout
        let client = newClient()
        // One watch over the whole prefix: heartbeats and registry in one ordered stream.
        let watch = ResumableWatch(client: client, key: layout.prefix + "/", prefix: true, tick: context.workerTick,
                                   probe: WatchProbe())
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
                    do {
                        group.post(.alarms(noSpace: try client.alarms().contains("NOSPACE"), failure: nil))
                    } catch {
                        group.post(.alarms(noSpace: nil, failure: (error as? EtcdError)?.shortReason ?? "\(error)"))
                    }
                case let .checkLease(node, lease):
                    let ttl = Result { try client.timeToLive(lease) }
                    group.post(.leaseChecked(node: node, lease: lease, ttl: (try? ttl.get()) ?? nil, known: (try? ttl.get()) != nil))
                case let .campaign(lease, value):
                    let won = try? client.putIf(layout.leader, value: value, lease: lease, when: .absent(layout.leader))
                    group.post(.campaigned(lease: lease, won: won))
                }
            }
        }
        maintenance = requests
        // The election lease, kept alive every TTL/3 on its own thread.
        let session = LeaseSession(client: newClient(),
                                   ttl: Int64(settings.server.electionTTLSec), tick: tick,
                                   beat: { group.beat(Self.electionWorker) },
                                   report: { group.post(.election($0)) })
        group.start(Self.electionWorker, stop: { session.stop() }) { session.run() }
        election = session
        stateWriter = StateWriter(group, client: newClient(), layout: layout, tick: tick) {
            .statesWritten(nodes: $0, outcome: $1)
        }
        workers = group
    }

    /// Stops the workers; when leading, resigns first (revokes the election
    /// lease, which deletes the leader key), so a standby leads within
    /// milliseconds instead of a TTL later.
    private func stopWatch() {
        let lease = election?.currentLease
        if let late = workers?.stopAll(deadline: .now() + 0.5), !late.isEmpty {
            logger.info("\(late.joined(separator: ", ")) did not end within 0.5 s; leaving it behind, ignoring")
        }
        if let lease {
            let quick = newClient(timeout: 0.5)
            do {
                try quick.revoke(lease.id)
                if leadership.isLeading {
                    logger.notice("resigned the lead (election lease revoked)", metadata: ["event": "RESIGNED"])
                }
            } catch {
                if leadership.isLeading {
                    logger.warning("could not resign the lead (\((error as? EtcdError)?.shortReason ?? "\(error)")); a standby takes over within \(settings.server.electionTTLSec) s",
                                   metadata: ["event": "RESIGN_FAILED"])
                }
            }
        }
        workers = nil
        election = nil
        stateWriter = nil
        leadership.reset()
        reporting = false
        unwritten = []
        nextStateRetry = nil
    }

    public func stop() {
        stopListener()
        stopWatch()
        logger.notice("stopped", metadata: ["event": "STOPPED"])
    }

    public func reload(_ new: Settings, now: MonotonicInstant) {
        let etcdChanged = new.etcd != settings.etcd
        settings = new
        if etcdChanged {
            access = Self.access(new.etcd.credentials)
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
        if new.server.listen != listening {
            stopListener()
            startListener(now: now)
        }
        changed(now: now)
    }
}
