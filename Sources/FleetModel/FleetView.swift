
/// The global view of the fleet at one moment, shared by monitor-serverd and
/// monitorctl: one row per node name, built from the node registry
/// (`<prefix>/nodes/`) and the heartbeats (`<prefix>/heartbeat/`). Pure: the same
/// inputs and `now` always give the same view; no I/O, no clock.
///
/// The rules, per node:
/// - heartbeat with status "stopping" → `stopped` (the agent is shutting down cleanly);
/// - heartbeat present → `alive`, or `stale` when its last round is older than
///   `staleAfterRounds` × interval (the lease is kept alive but the work loop hangs);
/// - no heartbeat, registry says stopped → `stopped` (since `stopped_at`);
/// - no heartbeat, registry not stopped (or unreadable) → `dead`;
/// - heartbeat without registry (a lab agent) → `alive` or `stale` as above;
/// - known only from the caller's `lastSeen` (neither key exists) → `dead`.
///
/// Staleness is `now - lastSeen`. By default lastSeen is the heartbeat's own `ts`,
/// written with the agent's clock and judged with ours: a clock skew of more than
/// a few rounds between them shows as stale (agent behind) or hides staleness
/// (agent ahead). The server passes its own receive times in `lastSeen` instead,
/// which only depend on its clock.
public struct FleetView: Equatable, Sendable {
    public enum State: String, CaseIterable, Sendable {
        case alive, stale, stopped, dead
    }

    /// One node's row.
    /// Where a node's state comes from.
    public enum StateSource: String, Sendable {
        /// The leading monitor-serverd's record (`<prefix>/state/<node>`).
        case server
        /// Computed by the reader from the heartbeat's own times (no server leads,
        /// or it has not recorded this node yet).
        case computed
    }

    public struct Node: Equatable, Sendable {
        public var name: String
        public var state: State
        /// Unix seconds the node entered `state`, when known: the agent's last start
        /// (alive), the moment it went stale, the clean stop, or for dead the
        /// caller's last-seen time (unknown from etcd alone).
        public var since: Double?
        /// Unix seconds of the latest heartbeat round (or the caller's receive time).
        public var lastSeen: Double?
        /// Round period in force, as the heartbeat reports it.
        public var interval: Double?
        /// Latest figures by metric name ("cpu", "memory", "disk read", ...); empty
        /// for a bare lab heartbeat or a node without heartbeat.
        public var metrics: [String: Double]
        /// Cumulative totals by `CounterName` raw value; empty from older agents.
        public var counters: [String: Double] = [:]
        public var memoryTotalBytes: UInt64?
        public var memoryAvailableBytes: UInt64?
        /// Why the agent rejected its latest config value, as it reports it.
        public var configError: String?
        /// Why a stored value could not be read ("heartbeat: ..." / "registry: ...").
        public var valueError: String?
        public var hostname: String?
        public var version: String?
        /// The machine (`/etc/machine-id`) and boot of the agent's latest start,
        /// as it reports them (nil from older and lab agents).
        public var machineID: String?
        public var bootID: String?
        /// Whether `<prefix>/heartbeat/<node>` exists.
        public var hasHeartbeat: Bool
        /// Whether `<prefix>/nodes/<node>` exists.
        public var isRegistered: Bool
        /// Who judged `state`: the leading server (its record) or the reader.
        public var stateSource: StateSource = .computed
        /// The node's clock minus the server's (seconds), when the server found
        /// it beyond the tolerance; nil when in range or unknown.
        public var clockSkew: Double?

        public init(name: String, state: State, since: Double? = nil, lastSeen: Double? = nil,
                    interval: Double? = nil, metrics: [String: Double] = [:], memoryTotalBytes: UInt64? = nil,
                    memoryAvailableBytes: UInt64? = nil, configError: String? = nil, valueError: String? = nil,
                    hostname: String? = nil, version: String? = nil, hasHeartbeat: Bool = false,
                    isRegistered: Bool = false) {
            self.name = name
            self.state = state
            self.since = since
            self.lastSeen = lastSeen
            self.interval = interval
            self.metrics = metrics
            self.memoryTotalBytes = memoryTotalBytes
            self.memoryAvailableBytes = memoryAvailableBytes
            self.configError = configError
            self.valueError = valueError
            self.hostname = hostname
            self.version = version
            self.hasHeartbeat = hasHeartbeat
            self.isRegistered = isRegistered
        }

        /// The latest figure of `metric`, if the node reported it.
        public subscript(metric: MetricName) -> Double? { metrics[metric.rawValue] }

        /// Takes the server's `record`: its state when `trusted` (a server leads),
        /// else only its times, and only when it agrees with the computed state.
        mutating func adopt(_ record: NodeState, trusted: Bool, now: Double) {
            let live = record.state == .alive || record.state == .stale
            if !hasHeartbeat && !isRegistered && record.state == .stopped { state = .stopped }
            guard trusted || record.state == state else { return }
            if trusted {
                state = record.state
                stateSource = .server
                clockSkew = record.clockSkew
            }
            since = record.since
            if live, hasHeartbeat, let ts = lastSeen {
                // The node's clock, brought to the server's (never in the future).
                lastSeen = min(now, ts - (record.clockSkew ?? 0))
            } else {
                lastSeen = record.lastSeen ?? lastSeen
            }
        }

        /// Dead or stale: what `monitorctl status` exits 1 for.
        public var needsAttention: Bool { state == .dead || state == .stale }
    }

    /// One heartbeat key's value, parsed (or why not).
    public struct HeartbeatInput: Equatable, Sendable {
        public var heartbeat: Heartbeat?
        public var valueError: String?
        /// False when the value was not written under the node's lease (none, or
        /// a stopping mark under another one): not its agent's, so it proves
        /// nothing about liveness. Nil: unknown.
        public var leased: Bool?

        public init(heartbeat: Heartbeat?, valueError: String? = nil, leased: Bool? = nil) {
            self.heartbeat = heartbeat
            self.valueError = valueError
            self.leased = leased
        }

        /// - Parameter lease: the key's lease (0: none), nil when unknown.
        public init(value: [UInt8], lease: Int64? = nil) {
            do { self.init(heartbeat: try Heartbeat.parse(value)) } catch { self.init(heartbeat: nil, valueError: "\(error)") }
            leased = lease.map { $0 != 0 }
        }
    }

    /// One registry key's value, parsed (or why not).
    public struct RegistryInput: Equatable, Sendable {
        public var record: NodeRecord?
        public var valueError: String?

        public init(record: NodeRecord?, valueError: String? = nil) {
            self.record = record
            self.valueError = valueError
        }

        public init(value: [UInt8]) {
            do { self.init(record: try NodeRecord.parse(value)) } catch { self.init(record: nil, valueError: "\(error)") }
        }
    }

    /// The thresholds of the rules.
    public struct Rules: Equatable, Sendable {
        /// Missed rounds before a node with a heartbeat counts as stale ([Server] StaleAfterRounds).
        public var staleAfterRounds: Int
        /// The round period assumed for heartbeats that do not report one (the lab's
        /// bare heartbeat): the config default, 10 s.
        public var defaultInterval: Double

        public init(staleAfterRounds: Int = 3, defaultInterval: Double = AgentConfig.default.interval) {
            self.staleAfterRounds = staleAfterRounds
            self.defaultInterval = defaultInterval
        }

        /// Seconds without a new round after which a node is stale. An interval no
        /// agent can have (outside 1 to 86400 s: a forged or broken value) counts as
        /// the default, so a heartbeat claiming 0.001 s cannot flap the node
        /// STALE/ALIVE on every put, nor one claiming a year hide a hang.
        public func staleAfter(interval: Double?) -> Double {
            Double(staleAfterRounds) * (interval.flatMap { AgentConfig.intervalRange.contains($0) ? $0 : nil } ?? defaultInterval)
        }
    }

    /// Sorted by node name.
    public let nodes: [Node]
    /// The moment the view describes (unix seconds).
    public let now: Double

    /// A view of nodes whose states the caller already computed (the server,
    /// which tracks transitions itself); sorted here by name.
    public init(nodes: [Node], now: Double) {
        self.nodes = nodes.sorted { $0.name < $1.name }
        self.now = now
    }

    /// - Parameters:
    ///   - heartbeats: present heartbeat keys by node name.
    ///   - registry: present registry keys by node name.
    ///   - lastSeen: the caller's own last-seen times by node name; they override
    ///     the heartbeat's `ts` and give dead nodes a "since".
    public init(heartbeats: [String: HeartbeatInput], registry: [String: RegistryInput], now: Double,
                rules: Rules = Rules(), lastSeen: [String: Double] = [:]) {
        let names = Set(heartbeats.keys).union(registry.keys).union(lastSeen.keys)
        self.nodes = names.sorted().map { name in
            Self.node(name: name, heartbeat: heartbeats[name], registry: registry[name], now: now,
                      rules: rules, lastSeen: lastSeen[name])
        }
        self.now = now
    }

    /// The view from two range reads (`layout.heartbeatPrefix`, `layout.nodesPrefix`);
    /// keys outside the prefixes are ignored.
    public init(heartbeatKVs: [(key: String, value: [UInt8])], registryKVs: [(key: String, value: [UInt8])],
                layout: KeyLayout, now: Double,
                rules: Rules = Rules(), lastSeen: [String: Double] = [:]) {
        var heartbeats: [String: HeartbeatInput] = [:]
        for kv in heartbeatKVs {
            if let name = layout.node(fromHeartbeatKey: kv.key) { heartbeats[name] = HeartbeatInput(value: kv.value) }
        }
        var registry: [String: RegistryInput] = [:]
        for kv in registryKVs {
            if let name = layout.node(fromRegistryKey: kv.key) { registry[name] = RegistryInput(value: kv.value) }
        }
        self.init(heartbeats: heartbeats, registry: registry, now: now, rules: rules, lastSeen: lastSeen)
    }

    /// The view from one read of the whole prefix (one revision: registry,
    /// heartbeats, the server's records and the leader key agree), and the
    /// leading server, if any. While a server leads, each node's state, since
    /// and last seen are its record's (one truth: the server judges by its own
    /// receive times, so a node's clock skew changes nothing), and the last
    /// round of a live node is its heartbeat's `ts` corrected by the skew the
    /// server measured. Without a leader, or for a node not recorded yet, the
    /// state is computed here (`stateSource` says which); a node known only
    /// from its record (a lab node whose key went away) is listed as it was
    /// last judged.
    public static func read(_ kvs: [(key: String, value: [UInt8])], layout: KeyLayout, now: Double,
                            rules: Rules = Rules()) -> (view: FleetView, leader: LeaderRecord?) {
        var heartbeats: [String: HeartbeatInput] = [:], registry: [String: RegistryInput] = [:]
        var stored: [String: NodeState] = [:], leader: LeaderRecord?
        for kv in kvs {
            if let name = layout.node(fromHeartbeatKey: kv.key) {
                heartbeats[name] = HeartbeatInput(value: kv.value)
            } else if let name = layout.node(fromRegistryKey: kv.key) {
                registry[name] = RegistryInput(value: kv.value)
            } else if let name = layout.node(fromStateKey: kv.key), let record = NodeState.parse(kv.value) {
                stored[name] = record
            } else if kv.key == layout.leader {
                leader = LeaderRecord.parse(kv.value) ?? LeaderRecord(server: "", pid: 0, since: 0, version: "")
            }
        }
        let names = Set(heartbeats.keys).union(registry.keys).union(stored.keys)
        let nodes = names.sorted().map { name in
            var node = Self.node(name: name, heartbeat: heartbeats[name], registry: registry[name], now: now, rules: rules)
            if let record = stored[name] { node.adopt(record, trusted: leader != nil, now: now) }
            return node
        }
        return (FleetView(nodes: nodes, now: now), leader)
    }

    /// The rules applied to one node.
    /// - Parameter lastRoundTs: the `ts` of the last round the caller saw from this
    ///   node: a registry stop mark older than it is from an earlier run, so a
    ///   node without heartbeat is then dead, not stopped.
    public static func node(name: String, heartbeat: HeartbeatInput?, registry: RegistryInput?, now: Double,
                            rules: Rules = Rules(), lastSeen: Double? = nil, lastRoundTs: Double? = nil) -> Node {
        let record = registry?.record
        var node = Node(name: name, state: .dead, hasHeartbeat: heartbeat != nil, isRegistered: registry != nil)
        node.hostname = record.flatMap { $0.hostname.isEmpty ? nil : $0.hostname }
        node.version = record.flatMap { $0.version.isEmpty ? nil : $0.version }
        node.machineID = record?.machineID
        node.bootID = record?.bootID
        let errors = [heartbeat?.valueError.map { "heartbeat: \($0)" }, registry?.valueError.map { "registry: \($0)" }]
        node.valueError = errors.compactMap { $0 }.isEmpty ? nil : errors.compactMap { $0 }.joined(separator: "; ")

        if heartbeat?.leased == false {
            let problem = "heartbeat: written without the node's lease, so not by its agent; it does not count as alive"
            node.valueError = node.valueError.map { $0 + "; " + problem } ?? problem
        }
        // A heartbeat without a lease proves nothing: judged as if absent.
        guard let heartbeat, heartbeat.leased != false else {
            // No heartbeat: the lease is gone. Only the registry can tell a clean
            // stop, and only one that came after the last round seen.
            let markIsCurrent = lastRoundTs.map { last in (record?.stoppedAt ?? 0) >= last } ?? true
            if let record, record.stopped, markIsCurrent {
                node.state = .stopped
                node.since = record.stoppedAt
                node.lastSeen = lastSeen ?? record.stoppedAt
            } else {
                node.state = .dead
                node.since = lastSeen
                node.lastSeen = lastSeen
            }
            return node
        }

        let beat = heartbeat.heartbeat
        if let beat {
            node.interval = beat.interval
            if let interval = beat.interval, !AgentConfig.intervalRange.contains(interval) {
                let problem = "heartbeat: interval \(interval) s is outside 1 to 86400; judged by the default "
                    + Interval.text(rules.defaultInterval)
                node.valueError = node.valueError.map { $0 + "; " + problem } ?? problem
            }
            node.metrics = beat.metrics ?? [:]
            node.counters = beat.counters ?? [:]
            node.memoryTotalBytes = beat.memoryTotalBytes
            node.memoryAvailableBytes = beat.memoryAvailableBytes
            node.configError = beat.configError
            if !beat.hostname.isEmpty { node.hostname = beat.hostname }
            if let version = beat.version, !version.isEmpty { node.version = version }
            if let machine = beat.machineID, !machine.isEmpty { node.machineID = machine }
        }
        // A heartbeat without ts (0) says nothing about when it was written.
        node.lastSeen = lastSeen ?? beat.flatMap { $0.ts > 0 ? $0.ts : nil }

        if let beat, beat.isStopping {
            node.state = .stopped
            node.since = beat.ts > 0 ? beat.ts : node.lastSeen
            return node
        }
        let staleAfter = rules.staleAfter(interval: node.interval)
        if let seen = node.lastSeen, now - seen > staleAfter {
            node.state = .stale
            node.since = seen + staleAfter
        } else {
            // The lease proves it alive, even when the value is unreadable.
            node.state = .alive
            node.since = record.flatMap { $0.lastStart > 0 ? $0.lastStart : nil }
        }
        return node
    }

    public subscript(name: String) -> Node? { nodes.first { $0.name == name } }

    public func count(_ state: State) -> Int { nodes.reduce(0) { $0 + ($1.state == state ? 1 : 0) } }

    /// True when any node is dead or stale.
    public var needsAttention: Bool { nodes.contains { $0.needsAttention } }

    /// "3 nodes: 2 alive, 1 dead" (states with no node are left out; "0 nodes" when empty).
    public var summary: String {
        Self.summary(counts: Dictionary(grouping: nodes, by: \.state).mapValues(\.count))
    }

    /// The summary line for nodes counted per state (the server keeps running counts).
    public static func summary(counts: [State: Int]) -> String {
        let parts = State.allCases.compactMap { state -> String? in
            let n = counts[state] ?? 0
            return n > 0 ? "\(n) \(state.rawValue)" : nil
        }
        let total = counts.values.reduce(0, +)
        return "\(total) node\(total == 1 ? "" : "s")" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }
}
