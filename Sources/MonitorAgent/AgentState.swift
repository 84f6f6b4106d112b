import Concurrency
import EtcdClient
import FleetModel
import Logging
import SafeText

/// One log record the agent's state decided to write.
public struct AgentLogLine: Equatable, Sendable {
    public var level: Logger.Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Logger.Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// What the agent's state asks its daemon to do. Only `AgentDaemon` performs them.
public enum AgentEffect: Equatable, Sendable {
    case log(AgentLogLine)
    /// Put the heartbeat (`AgentState.heartbeat`) attached to the lease, with
    /// the latest figures and no new collection.
    case putHeartbeat
    /// Another writer deleted or overwrote the heartbeat key (`what` says which):
    /// put it back; `heartbeatRestored` says whether to log it.
    case restoreHeartbeat(what: String)
    /// A round: collect the selected metrics and hand them to `roundCollected`.
    case collect
    /// Write this start's registry record (once per node name and start).
    case writeRegistry
    /// Revoke the previous registration's lease, now that the new one holds the key.
    case revokeReplacedLease
    /// Read who holds the heartbeat key and hand it to `nameClaimed`.
    case claimName
    /// The metric selection changed: take baselines so the next round has rates.
    case prime(Set<MetricName>)
}

/// Everything monitor-agentd knows and decides, with no I/O and no clock of its
/// own: `(message, now) -> effects`, `now` on the monotonic clock. Owns the config
/// merge (the node's key over the fleet default, field by field, the last good
/// value of each kept when a new one is rejected), the interval and round
/// schedule, the lease session's state, the latest sample, the STATUS line and
/// every "log once" decision. Tests drive it with a fake clock. Lives as long as
/// the agent; a reload that re-registers starts a new generation in it.
public struct AgentState: Sendable {
    public enum Session: Equatable, Sendable {
        case connecting
        case alive(Lease)
        /// The lease, if any, may still be alive in etcd: puts keep using it.
        case unreachable(reason: String, retryIn: Double, lease: Lease?)
        case lost(Lease)
    }

    public private(set) var node: String
    public private(set) var layout: KeyLayout
    private var endpoints: String
    /// Registration generation: messages of another generation are dropped.
    public private(set) var generation = 1
    public private(set) var session = Session.connecting
    public private(set) var config = AgentConfig.default
    public private(set) var selection = MetricSelection(names: AgentConfig.default.metrics)
    public private(set) var latestSample = MetricsSample()
    /// Rounds since start.
    public private(set) var seq: Int64 = 0
    /// Failed rounds per collector since start (the "counted" of a failing collector).
    public private(set) var collectorFailures: [MetricName: Int] = [:]
    /// Whether this start's registry record is written for `node`.
    public private(set) var registryWritten = false
    public private(set) var nextRound: MonotonicInstant
    /// This machine (`/etc/machine-id`), published in every heartbeat; nil when unknown.
    public var machineID: String?
    /// The machine whose live lease holds this node's name: this agent then
    /// writes nothing and asks again every TTL. Nil while the name is ours.
    public private(set) var nameHeldBy: String?
    /// The lease granted, and whether the name was claimed under it.
    private var claimed = false
    private var nextClaim: MonotonicInstant?

    private var patches: [ConfigSource: AgentConfigPatch] = [:]
    private var rejections: [ConfigSource: String] = [:]
    private var warnedUnknown: [String] = []
    private var watchConnected: [ConfigSource: Bool] = [:]
    private var loggedTrouble: String?
    private var registeredOnce = false
    private var publishedConfigError: String?
    /// Consecutive failed rounds of each collector failing now.
    private var failing: [MetricName: Int] = [:]
    private var lastRound: MonotonicInstant?
    /// Config storms (hundreds of changes per second) coalesce: within one round,
    /// the first `configLinesPerRound` changes are logged and one extra heartbeat
    /// put shows a change at once; later ones are applied (the latest value wins)
    /// and counted, and the round's own put publishes them.
    /// The revision of this agent's latest heartbeat put: a change of the key
    /// after it is another writer's. (One before it was already overwritten by
    /// that put, so a watch replaying old events after a reconnect restores nothing.)
    private var lastOwnRevision: Int64 = 0
    /// Tampering was logged in this episode (reset by a round without any).
    private var tamperLogged = false
    private var tamperedThisRound = false
    /// Why etcd refuses the heartbeat writes (out of space), while it does.
    public private(set) var writesRefused: String?
    private var configLinesThisRound = 0
    private var coalescedChanges = 0
    private var extraPutThisRound = false
    static let configLinesPerRound = 3

    /// The first round comes this soon after start, whatever the interval, so the
    /// view has figures at once (the collector's baseline gives it rates).
    public static let firstRoundDelay = 1.0

    public init(node: String, layout: KeyLayout, endpoints: [String], now: MonotonicInstant) {
        self.node = node
        self.layout = layout
        self.endpoints = endpoints.joined(separator: ",")
        nextRound = now + min(Self.firstRoundDelay, AgentConfig.default.interval)
    }

    /// The lease the heartbeat is put with, if any.
    public var lease: Lease? {
        switch session {
        case let .alive(lease): return lease
        case let .unreachable(_, _, lease): return lease
        case .connecting, .lost: return nil
        }
    }

    /// The rejection reasons in force, e.g. `/monitor/config/n1: "interval": expected ...`.
    public var configError: String? {
        let text = ConfigSource.allCases.compactMap { rejections[$0] }.joined(separator: "; ")
        return text.isEmpty ? nil : text
    }

    // MARK: Messages

    public mutating func handle(_ message: AgentMessage, now: MonotonicInstant) -> [AgentEffect] {
        switch message {
        case let .session(generation, event):
            guard generation == self.generation else { return [] }
            return sessionChanged(event)
        case let .config(generation, source, event):
            guard generation == self.generation else { return [] }
            return configEvent(source, event, now: now)
        case let .heartbeatKey(generation, event):
            guard generation == self.generation else { return [] }
            return heartbeatKeyChanged(event, now: now)
        }
    }

    /// The next time the loop must act: a round, or asking again for a held name.
    public var nextDeadline: MonotonicInstant {
        nextClaim.map { min($0, nextRound) } ?? nextRound
    }

    /// Whether the heartbeat key is ours to write: a lease, and the name claimed.
    public var holdsName: Bool { lease != nil && claimed }

    /// Who holds the key, as read for the lease just granted (or at a retry).
    /// Free: the agent registers; held by a live lease of another machine: it
    /// writes nothing, says so once, and asks again a TTL later.
    public mutating func nameClaimed(_ claim: NameClaim, now: MonotonicInstant) -> [AgentEffect] {
        guard let lease else { return [] }
        switch claim {
        case .free:
            let wasHeld = nameHeldBy
            nameHeldBy = nil
            nextClaim = nil
            claimed = true
            // Put the heartbeat (and, once per start, the registry record) first,
            // so that "registered" in the log means the keys are there.
            var effects: [AgentEffect] = [.putHeartbeat]
            if !registryWritten { effects.append(.writeRegistry) }
            let id = Self.hex(lease.id)
            let taken = wasHeld.map { " (machine \($0) no longer holds the name)" } ?? ""
            effects.append(.log(AgentLogLine(.notice,
                "\(registeredOnce ? "re-registered" : "registered") as node \(node): lease \(id) (TTL \(lease.ttl)s), heartbeat \(layout.heartbeat(node))\(taken)",
                ["node": node, "event": "REGISTERED", "lease_id": id])))
            registeredOnce = true
            effects.append(.revokeReplacedLease)
            return effects
        case let .heldBy(machine, holder):
            return nameLost(to: machine, lease: holder, now: now)
        }
    }

    /// Another machine's live lease holds the name: stand back (two agents
    /// taking the key from each other would flap the node for everyone).
    private mutating func nameLost(to machine: String, lease holder: Int64, now: MonotonicInstant) -> [AgentEffect] {
        claimed = false
        nextClaim = now + Double(lease?.ttl ?? 5)
        guard nameHeldBy != machine else { return [] }
        nameHeldBy = machine
        return [.log(AgentLogLine(.error,
            "node name \(node) is held by machine \(machine) (lease \(Self.hex(holder)), heartbeat \(layout.heartbeat(node))): "
            + "not taking it over; checking again every \(lease?.ttl ?? 5)s. Give one of the machines another NodeName, "
            + "or a fresh /etc/machine-id if it is a clone",
            ["node": node, "event": "NAME_CONFLICT", "holder_machine_id": machine]))]
    }

    /// Asking again for a held name is due.
    public mutating func claimDue(now: MonotonicInstant) -> [AgentEffect] {
        guard let due = nextClaim, now >= due else { return [] }
        nextClaim = nil
        return lease == nil ? [] : [.claimName]
    }

    /// A change of the heartbeat key: ours (a revision we put) or another
    /// writer's, which is put back at once. While the session has no lease the
    /// key is not ours to defend (it expired, or we are registering).
    private mutating func heartbeatKeyChanged(_ event: HeartbeatKeyEvent, now: MonotonicInstant) -> [AgentEffect] {
        guard let lease, claimed else { return [] }
        switch event {
        case let .put(revision, putLease, writer):
            guard revision > lastOwnRevision else { return [] }
            // Another machine's agent under its own lease: a second agent with
            // this name (a cloned VM), not a stray write to undo.
            if putLease != 0, putLease != lease.id, let writer, let own = machineID, writer != own {
                return nameLost(to: writer, lease: putLease, now: now)
            }
            tamperedThisRound = true
            return [.restoreHeartbeat(what: putLease == 0 ? "overwritten without a lease"
                                      : putLease == lease.id ? "overwritten under our lease" : "overwritten under lease \(Self.hex(putLease))")]
        case let .deleted(revision):
            guard revision > lastOwnRevision else { return [] }
            tamperedThisRound = true
            return [.restoreHeartbeat(what: "deleted")]
        }
    }

    /// The restore put went through: logged once per episode of tampering (a
    /// round without any ends the episode).
    public mutating func heartbeatRestored(what: String) -> [AgentEffect] {
        guard !tamperLogged else { return [] }
        tamperLogged = true
        return [.log(AgentLogLine(.warning, "heartbeat key \(layout.heartbeat(node)) was \(what) by another writer; restored it",
                                  ["node": node, "event": "HEARTBEAT_TAMPERED"]))]
    }

    private mutating func sessionChanged(_ event: SessionEvent) -> [AgentEffect] {
        var effects: [AgentEffect] = []
        switch event {
        case let .granted(lease):
            session = .alive(lease)
            // A new lease holds no key yet: first find out whether the name is
            // free to take (`nameClaimed` registers).
            claimed = false
            loggedTrouble = nil
            effects.append(.claimName)
        case let .renewed(lease):
            session = .alive(lease)
            if loggedTrouble != nil {
                effects.append(.log(AgentLogLine(.notice, "etcd reachable again; lease \(Self.hex(lease.id)) kept",
                                                 ["node": node, "event": "ETCD_REACHABLE"])))
                loggedTrouble = nil
                // The rounds' puts failed meanwhile: show the latest figures now.
                effects.append(.putHeartbeat)
            }
        case let .unreachable(reason, retryIn):
            session = .unreachable(reason: reason, retryIn: retryIn, lease: lease)
            if loggedTrouble != reason {
                effects.append(.log(AgentLogLine(.warning, "etcd unreachable (\(reason)), retrying with backoff",
                                                 ["node": node, "event": "ETCD_UNREACHABLE"])))
                loggedTrouble = reason
            }
        case let .lost(old):
            session = .lost(old)
            claimed = false
            nextClaim = nil
            let reason = "lease \(Self.hex(old.id)) lost"
            if loggedTrouble != reason {
                effects.append(.log(AgentLogLine(.warning, "\(reason) (expired or revoked); registering again",
                                                 ["node": node, "event": "LEASE_LOST", "lease_id": Self.hex(old.id)])))
                loggedTrouble = reason
            }
        }
        return effects
    }

    // MARK: Config

    private mutating func configEvent(_ source: ConfigSource, _ event: ConfigEvent, now: MonotonicInstant) -> [AgentEffect] {
        switch event {
        case let .read(key, value, revision):
            return configValue(source, key: key, value: value, revision: revision, initial: true, now: now)
        case let .changed(key, value, revision):
            return configValue(source, key: key, value: value, revision: revision, initial: false, now: now)
        case let .connected(key, endpoint):
            defer { watchConnected[source] = true }
            guard watchConnected[source] != true else { return [] }
            return [.log(AgentLogLine(.debug, "watching \(key)", ["key": key, "endpoint": endpoint]))]
        case let .interrupted(key, reason, retryIn):
            defer { watchConnected[source] = false }
            guard watchConnected[source] != false else { return [] }
            return [.log(AgentLogLine(.warning, "config watch on \(key) interrupted (\(reason)), resuming in \(Interval.text(retryIn, decimals: 1))",
                                      ["key": key, "event": "WATCH_INTERRUPTED"]))]
        }
    }

    /// One value of a config key (nil: absent or deleted), applied to the merge.
    /// Changes beyond the first few of a round are applied silently and counted
    /// (see `configLinesPerRound`).
    private mutating func configValue(_ source: ConfigSource, key: String, value: [UInt8]?, revision: Int64,
                                      initial: Bool, now: MonotonicInstant) -> [AgentEffect] {
        let effects = configValueEffects(source, key: key, value: value, revision: revision, initial: initial, now: now)
        guard !initial else { return effects }
        configLinesThisRound += 1
        guard configLinesThisRound > Self.configLinesPerRound else { return effects }
        coalescedChanges += 1
        return effects.filter { if case .log = $0 { return false } else { return true } }
    }

    private mutating func configValueEffects(_ source: ConfigSource, key: String, value: [UInt8]?, revision: Int64,
                                             initial: Bool, now: MonotonicInstant) -> [AgentEffect] {
        var effects: [AgentEffect] = []
        let old = config
        guard let value else {
            setPatch(source, nil)
            if initial && source == .node {
                effects.append(.log(AgentLogLine(.info, "no config at \(key), using \(config.summary)", ["key": key])))
            }
            if !initial {
                let fallback = source == .node ? "the default" : "built-in defaults"
                effects.append(.log(AgentLogLine(.notice, "config key \(key) deleted, falling back to \(fallback): \(config.summary)",
                                                 ["key": key, "event": "CONFIG_DELETED"])))
            }
            return effects + configApplied(from: old, now: now)
        }
        do {
            setPatch(source, try AgentConfigPatch.parse(value))
            if config != old {
                effects.append(.log(AgentLogLine(.notice, "config applied from \(key): \(config.describeChange(from: old))",
                                                 ["key": key, "event": "CONFIG_APPLIED", "interval": "\(config.interval)",
                                                  "revision": "\(revision)"])))
            } else if initial {
                effects.append(.log(AgentLogLine(.info, "config at \(key) read: \(config.summary)", ["key": key])))
            }
        } catch {
            let reason = "\(key): \(error)"
            rejections[source] = reason
            effects.append(.log(AgentLogLine(.error, "config rejected: \(reason); keeping \(config.summary)",
                                             ["key": key, "event": "CONFIG_REJECTED", "revision": "\(revision)"])))
        }
        return effects + configApplied(from: old, now: now)
    }

    /// Sets (or with nil, removes) a source's patch, clears its rejection, merges.
    private mutating func setPatch(_ source: ConfigSource, _ patch: AgentConfigPatch?) {
        rejections[source] = nil
        patches[source] = patch
        var merged = AgentConfig.default
        if let p = patches[.fleetDefault] { merged = merged.applying(p) }
        if let p = patches[.node] { merged = merged.applying(p) }
        config = merged
    }

    /// What a config message changes beyond the merge: the selection, the round
    /// schedule, and a re-put so the central view shows the new interval or the
    /// rejection at once (an extra put per change, not per round).
    private mutating func configApplied(from old: AgentConfig, now: MonotonicInstant) -> [AgentEffect] {
        guard config != old else {
            return configError != publishedConfigError ? extraPut() : []
        }
        var effects: [AgentEffect] = []
        let newSelection = MetricSelection(names: config.metrics)
        if !newSelection.unknown.isEmpty && newSelection.unknown != warnedUnknown {
            effects.append(.log(AgentLogLine(.warning, "unknown metric names \(newSelection.unknownList()) in config, ignoring them; known: \(MetricName.allCases.map(\.rawValue))",
                                             ["event": "CONFIG_UNKNOWN_METRIC"])))
        }
        warnedUnknown = newSelection.unknown
        if newSelection.metrics != selection.metrics { effects.append(.prime(newSelection.metrics)) }
        selection = newSelection
        // The next round keeps its place in the old rhythm, moved to the new
        // interval; before the first round it stays at its start-up time.
        if let lastRound { nextRound = max(now, lastRound + config.interval) }
        return effects + extraPut()
    }

    /// A put outside the rounds, to show a config change at once: one per round at
    /// most; later changes ride on the round's own put.
    private mutating func extraPut() -> [AgentEffect] {
        guard !extraPutThisRound else { return [] }
        extraPutThisRound = true
        return [.putHeartbeat]
    }

    // MARK: Rounds

    /// The deadline passed: a round is due when `now` reached `nextRound`.
    public mutating func roundDue(now: MonotonicInstant) -> [AgentEffect] {
        guard now >= nextRound else { return [] }
        lastRound = now
        nextRound = now + config.interval
        var effects: [AgentEffect] = []
        if coalescedChanges > 0 {
            let rejected = configError.map { "; rejected: " + SafeText.cut($0, limit: 200) } ?? ""
            effects.append(.log(AgentLogLine(.notice, "\(coalescedChanges) more config change\(coalescedChanges == 1 ? "" : "s") "
                                             + "since the last one logged, coalesced; in force: \(config.summary)\(rejected)",
                                             ["event": "CONFIG_COALESCED", "changes": "\(coalescedChanges)"])))
        }
        coalescedChanges = 0
        configLinesThisRound = 0
        extraPutThisRound = false
        if !tamperedThisRound { tamperLogged = false }
        tamperedThisRound = false
        return effects + [.collect]
    }

    /// The figures of a round: kept for the heartbeat, which is put at once.
    /// A collector is logged once when it starts failing and once when it recovers.
    public mutating func roundCollected(_ sample: MetricsSample) -> [AgentEffect] {
        latestSample = sample
        seq += 1
        var effects: [AgentEffect] = []
        for (metric, error) in sample.errors.sorted(by: { $0.key < $1.key }) {
            collectorFailures[metric, default: 0] += 1
            if failing[metric] == nil {
                effects.append(.log(AgentLogLine(.warning, "collector \(metric.rawValue) failed: \(error); publishing without it until it recovers",
                                                 ["metric": metric.rawValue, "event": "COLLECTOR_FAILED"])))
            }
            failing[metric, default: 0] += 1
        }
        for (metric, rounds) in failing.sorted(by: { $0.key < $1.key }) where sample.errors[metric] == nil {
            if sample.values[metric] != nil {
                effects.append(.log(AgentLogLine(.notice, "collector \(metric.rawValue) recovered after \(rounds) failed round\(rounds == 1 ? "" : "s")",
                                                 ["metric": metric.rawValue, "event": "COLLECTOR_RECOVERED"])))
                failing[metric] = nil
            } else if !selection.metrics.contains(metric) {
                failing[metric] = nil // no longer asked for
            }
        }
        effects.append(.putHeartbeat)
        return effects
    }

    // MARK: Heartbeat and registry

    /// The heartbeat value in force: lab fields plus interval, metrics of the
    /// config in force only (even right after it changed), config error. Records
    /// the config error as published.
    public mutating func heartbeat(status: String, wallTime: Double, hostname: String) -> Heartbeat {
        publishedConfigError = configError
        var beat = Heartbeat(status: status, ts: wallTime, hostname: hostname, interval: config.interval, node: node,
                             version: MonitorVersion.string, seq: seq, configError: configError)
        beat.machineID = machineID
        let figures = latestSample.values.filter { selection.metrics.contains($0.key) }
        if !figures.isEmpty {
            beat.metrics = Dictionary(uniqueKeysWithValues: figures.map { ($0.key.rawValue, $0.value) })
        }
        beat.memoryTotalBytes = latestSample.memoryTotalBytes
        beat.memoryAvailableBytes = latestSample.memoryAvailableBytes
        if !latestSample.counters.isEmpty {
            beat.counters = Dictionary(uniqueKeysWithValues: latestSample.counters.map { ($0.key.rawValue, $0.value) })
        }
        return beat
    }

    public mutating func registryWasWritten() { registryWritten = true }

    /// A heartbeat put was refused. Out of space (the NOSPACE alarm) is said once
    /// and shown in STATUS until a put succeeds: the lease stays alive (keepalives
    /// are no writes), so without this the agent would look fine while its figures
    /// froze. Other failures are the session's to report.
    public mutating func heartbeatPutFailed(_ error: EtcdError) -> [AgentEffect] {
        guard case .noSpace = error, writesRefused == nil else { return [] }
        writesRefused = "etcd out of space (NOSPACE alarm)"
        return [.log(AgentLogLine(.error, "etcd refuses writes: \(error); the heartbeat is not updated meanwhile, the lease is kept alive",
                                  ["node": node, "event": "ETCD_NOSPACE"]))]
    }

    /// A heartbeat put went through at `revision`: remembered as ours; ends a
    /// write refusal, once.
    public mutating func heartbeatPutSucceeded(revision: Int64) -> [AgentEffect] {
        lastOwnRevision = max(lastOwnRevision, revision)
        guard writesRefused != nil else { return [] }
        writesRefused = nil
        return [.log(AgentLogLine(.notice, "etcd accepts writes again; heartbeat updated", ["node": node, "event": "ETCD_WRITES_RESUMED"]))]
    }

    /// A reload re-registers (new etcd or agent settings): a new generation, whose
    /// threads' messages are the only ones accepted from now on.
    public mutating func reregister(node: String, layout: KeyLayout, endpoints: [String]) -> Int {
        if node != self.node || layout != self.layout { registryWritten = false }
        self.node = node
        self.layout = layout
        self.endpoints = endpoints.joined(separator: ",")
        generation += 1
        session = .connecting
        claimed = false
        nextClaim = nil
        loggedTrouble = nil
        watchConnected = [:]
        return generation
    }

    // MARK: STATUS

    public var statusLine: String {
        var line: String
        switch session {
        case .connecting:
            line = "connecting to etcd (\(endpoints))"
        case let .alive(lease):
            line = "lease \(Self.hex(lease.id)) alive, interval \(Interval.text(config.interval))"
        case let .unreachable(reason, retryIn, _):
            line = "etcd unreachable (\(reason)), retrying in \(Interval.text(max(1, retryIn.rounded())))"
        case let .lost(lease):
            line = "lease \(Self.hex(lease.id)) lost, registering again"
        }
        if let nameHeldBy { line = "node name \(node) is held by machine \(nameHeldBy); waiting, writing nothing" }
        if let writesRefused { line += ", \(writesRefused): heartbeat not updated" }
        if configError != nil { line += ", config rejected (see log)" }
        if !failing.isEmpty { line += ", collector failing: " + failing.keys.sorted().map(\.rawValue).joined(separator: ", ") }
        return line
    }

    /// Lease IDs as etcdctl prints them (hex), so operators can paste them.
    public static func hex(_ id: Int64) -> String { String(UInt64(bitPattern: id), radix: 16) }
}
