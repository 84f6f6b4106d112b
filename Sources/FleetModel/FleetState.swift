
/// One change of a key under the prefix, as a watch delivers it: a put (`value`)
/// or a delete (`value` nil, with the value before it when the watch had it).
public struct FleetChange: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]?
    public var previous: [UInt8]?
    /// The lease the put attached (0: none); nil when the caller does not know.
    public var lease: Int64?
    /// The lease of the value before a delete, when the watch had it.
    public var previousLease: Int64?

    public init(key: String, value: [UInt8]?, previous: [UInt8]? = nil, lease: Int64? = nil, previousLease: Int64? = nil) {
        self.key = key
        self.value = value
        self.previous = previous
        self.lease = lease
        self.previousLease = previousLease
    }
}

/// The transition tracker of the fleet, shared by monitor-serverd and
/// `monitorctl watch` (which therefore show the same transitions, STALE
/// included): the live knowledge of every node, fed by one watch over the whole key
/// prefix (heartbeats and registry in one stream, so a clean stop's registry mark
/// and heartbeat delete arrive in the order they were written). Pure logic, no
/// I/O: feed it the snapshot, events and clock ticks; get back the transitions to
/// report, each once. A node's state is computed by the shared `FleetView` rules
/// (the same ones `monitorctl status` uses), with the server's own receive times
/// as "last seen", so agents' clock skew cannot make a node stale. Times are in
/// the caller's clock: the server feeds monotonic seconds, so a wall-clock step
/// can neither turn the fleet stale nor delay a deadline.
public struct FleetState: Sendable {
    public enum Event: String, Sendable, CaseIterable {
        case alive = "ALIVE", left = "LEFT", dead = "DEAD", stale = "STALE"
        case cpuHigh = "CPU_HIGH", cpuOK = "CPU_OK", memoryHigh = "MEMORY_HIGH", memoryOK = "MEMORY_OK"
        /// The node's clock is more than `skewTolerance` off the caller's, and back.
        case clockSkew = "CLOCK_SKEW", clockOK = "CLOCK_OK"
        /// Two machines write one node's heartbeat (two agents with one name).
        case nameConflict = "NAME_CONFLICT"

        public var isStateChange: Bool { [.alive, .left, .dead, .stale].contains(self) }
        /// Changes what the leading server records for the node (its state or clock skew).
        public var isRecorded: Bool { isStateChange || self == .clockSkew || self == .clockOK }
    }

    public struct Transition: Equatable, Sendable {
        public var node: String
        public var event: Event
        /// "first seen", "back", "clean stop", "lease expired", "cpu 95.0% >= 90%", ...
        public var detail: String
        /// The state after the transition.
        public var state: FleetView.State

        public init(node: String, event: Event, detail: String, state: FleetView.State) {
            self.node = node
            self.event = event
            self.detail = detail
            self.state = state
        }
    }

    /// Health thresholds ([Server] CPUWarnPercent, MemoryWarnPercent). A warning is
    /// cleared once the figure is `hysteresis` points below the threshold, so a
    /// value hovering at the line does not flap.
    public struct Thresholds: Sendable {
        public var cpuPercent: Double
        public var memoryPercent: Double
        public var hysteresis: Double = 5

        public init(cpuPercent: Double = 90, memoryPercent: Double = 90) {
            self.cpuPercent = cpuPercent
            self.memoryPercent = memoryPercent
        }
    }

    struct Entry: Sendable {
        var heartbeat: FleetView.HeartbeatInput?
        /// The lease of the heartbeat in force (0: none), when known.
        var lease: Int64?
        /// The lease of the last round (a non-stopping put): the node's own lease.
        var roundLease: Int64?
        /// Since when the key holds a value without a lease (someone else's put).
        var leaselessSince: Double?
        var registry: FleetView.RegistryInput?
        var lastSeen: Double?
        /// When the caller pardoned the node's staleness (`pardon`): its stale
        /// clock runs from here if no round came since. Not shown as last seen.
        var pardonedAt: Double?
        /// When it last became alive, so a pardon keeps the "since" of that.
        var aliveSince: Double?
        /// The last heartbeat put said "stopping": its delete is a clean stop.
        var stoppingMarked = false
        /// The `ts` of the last round seen (the agent's clock): a registry stop
        /// mark older than it is from an earlier run, not this one's end.
        var lastRoundTs: Double?
        var state: FleetView.State?
        var since: Double = 0
        /// Why it is in `state` (the detail of the transition into it).
        var reason = ""
        /// The leading server's record of this node (`<prefix>/state/<node>`), as read.
        var stored: NodeState?
        var alerts: Set<Event> = []
        /// The node's `ts` minus the wall-clock receive time, for the last rounds.
        var skewSamples: [Double] = []
        /// The skew reported (CLOCK_SKEW) and not yet back in range.
        var skewFlagged: Double?
        /// The machine that wrote the last round (when the agent says).
        var machineID: String?
        /// NAME_CONFLICT was said for this run of the node.
        var conflictSaid = false
        /// When this node turns stale if nothing arrives; nil unless alive.
        var deadline: Double?
    }

    private var entries: [String: Entry] = [:]
    /// Nodes per state, kept with every change so that STATUS= costs O(1) per
    /// message however large the fleet.
    private var counts: [FleetView.State: Int] = [:]
    /// Every alive node's stale deadline, earliest first (O(log n) per event).
    private var deadlines = DeadlineQueue()
    private let layout: KeyLayout
    /// Both may change on a settings reload; they apply from the next evaluation.
    public var rules: FleetView.Rules {
        didSet { rescheduleAll() }
    }
    public var thresholds: Thresholds
    /// Wall-clock seconds minus the caller's clock (0 when the caller feeds wall
    /// time): how stored records' unix times map to the caller's clock and back.
    /// The server sets it before each input, so a clock step moves only display times.
    public var wallOffset: Double = 0
    /// Whether to compare each round's `ts` with the wall-clock receive time
    /// (`wallOffset` must then be set) and report CLOCK_SKEW / CLOCK_OK.
    public var measuresClockSkew = false

    public init(layout: KeyLayout, rules: FleetView.Rules = .init(), thresholds: Thresholds = .init()) {
        self.layout = layout
        self.rules = rules
        self.thresholds = thresholds
    }

    /// The whole current state under the prefix (at start, after compaction).
    /// Nodes first learnt from it get their state without a transition unless
    /// they are alive (ALIVE, first seen); known nodes change as usual.
    public mutating func apply(snapshot kvs: [(key: String, value: [UInt8])], now: Double) -> [Transition] {
        apply(snapshot: kvs.map { FleetChange(key: $0.key, value: $0.value) }, now: now)
    }

    /// The snapshot with each key's lease (the server's: a heartbeat without a
    /// lease is then flagged and never counts as alive).
    public mutating func apply(snapshot kvs: [FleetChange], now: Double) -> [Transition] {
        catchUpAt = now
        var heartbeats: [String: FleetChange] = [:], registry: [String: FleetChange] = [:], stored: [String: NodeState] = [:]
        for kv in kvs {
            guard let value = kv.value else { continue }
            if let name = layout.node(fromHeartbeatKey: kv.key) { heartbeats[name] = kv }
            if let name = layout.node(fromRegistryKey: kv.key) { registry[name] = kv }
            if let name = layout.node(fromStateKey: kv.key), let record = NodeState.parse(value) { stored[name] = record }
        }
        for name in Set(entries.keys).union(heartbeats.keys).union(registry.keys).union(stored.keys) {
            var entry = entries[name] ?? Entry()
            if let kv = heartbeats[name], let value = kv.value {
                entry.heartbeat = FleetView.HeartbeatInput(value: value, lease: kv.lease)
                entry.lease = kv.lease
                entry.leaselessSince = kv.lease == 0 ? (entry.leaselessSince ?? now) : nil
                if !(entry.heartbeat?.heartbeat?.isStopping ?? false), let lease = kv.lease { entry.roundLease = lease }
                entry.stoppingMarked = entry.heartbeat?.heartbeat?.isStopping ?? false
                entry.lastSeen = now
            } else if entry.heartbeat != nil {
                entry.stoppingMarked = entry.heartbeat?.heartbeat?.isStopping ?? false
                entry.heartbeat = nil
            }
            entry.registry = registry[name].flatMap { $0.value.map { FleetView.RegistryInput(value: $0) } }
            entry.stored = stored[name]
            entries[name] = entry
        }
        return reevaluate(Array(entries.keys), now: now, checkAlerts: Set(heartbeats.keys))
    }

    public mutating func apply(changes: [FleetChange], now: Double) -> [Transition] {
        var touched: [String] = [], puts = Set<String>(), conflicts: [Transition] = []
        for event in changes {
            if let name = layout.node(fromHeartbeatKey: event.key) {
                var entry = entries[name] ?? Entry()
                switch event.value {
                case let value?:
                    entry.heartbeat = FleetView.HeartbeatInput(value: value, lease: event.lease)
                    entry.lease = event.lease
                    entry.stoppingMarked = entry.heartbeat?.heartbeat?.isStopping ?? false
                    if !entry.stoppingMarked, let lease = event.lease { entry.roundLease = lease }
                    // A stopping mark under a lease other than the node's own is not
                    // its agent's: it proves nothing, like a value without a lease.
                    if entry.stoppingMarked, let lease = event.lease, let own = entry.roundLease, lease != own {
                        entry.heartbeat?.leased = false
                    }
                    entry.leaselessSince = entry.heartbeat?.leased == false ? (entry.leaselessSince ?? now) : nil
                    entry.lastSeen = now
                    if let writer = entry.heartbeat?.heartbeat?.machineID, !writer.isEmpty {
                        if let previous = entry.machineID, previous != writer, !entry.conflictSaid,
                           entry.state == .alive || entry.state == .stale, let state = entry.state {
                            entry.conflictSaid = true
                            conflicts.append(Transition(node: name, event: .nameConflict, detail:
                                "machines \(previous) and \(writer) both write its heartbeat: two agents use this node name",
                                state: state))
                        }
                        entry.machineID = writer
                    }
                    if measuresClockSkew, let ts = entry.heartbeat?.heartbeat?.ts, ts > 0, !entry.stoppingMarked,
                       now - catchUpAt >= Self.skewQuietAfterCatchUp {
                        entry.skewSamples = Array((entry.skewSamples + [ts - (now + wallOffset)]).suffix(Self.skewRounds))
                    }
                    puts.insert(name)
                case nil:
                    // prev_kv carries the stopping mark; our copy is the fallback.
                    let last = event.previous.map { FleetView.HeartbeatInput(value: $0) } ?? entry.heartbeat
                    let lease = event.previous != nil ? event.previousLease : entry.lease
                    // A clean stop is a stopping mark written under the node's own
                    // lease, then that lease's end: a mark put without a lease (or
                    // under another one) and deleted is no clean stop.
                    let ownLease = lease.map { $0 != 0 && (entry.roundLease == nil || entry.roundLease == $0) } ?? true
                    entry.stoppingMarked = ownLease && (last?.heartbeat?.isStopping ?? entry.stoppingMarked)
                    if let beat = entry.heartbeat?.heartbeat, !beat.isStopping { entry.lastRoundTs = beat.ts }
                    entry.heartbeat = nil
                    entry.lease = nil
                    entry.leaselessSince = nil
                    entry.conflictSaid = false
                }
                entries[name] = entry
                touched.append(name)
            } else if let name = layout.node(fromRegistryKey: event.key) {
                var entry = entries[name] ?? Entry()
                entry.registry = event.value.map { FleetView.RegistryInput(value: $0) }
                if forget(name, entry) { continue }
                entries[name] = entry
                touched.append(name)
            } else if let name = layout.node(fromStateKey: event.key) {
                // A write of the leading server (maybe this one): no transition,
                // but it is what a takeover compares with, and it alone keeps a
                // node without registry known once its heartbeat is gone.
                var entry = entries[name] ?? Entry()
                entry.stored = event.value.flatMap(NodeState.parse)
                if forget(name, entry) { continue }
                let isNew = entries[name] == nil
                entries[name] = entry
                if isNew { touched.append(name) }
            }
        }
        return reevaluate(touched, now: now, checkAlerts: puts) + conflicts
    }

    /// While true the caller cannot see etcd (its watch is down): nothing is
    /// derived from missing data, so no node turns stale and `tick` says nothing.
    public private(set) var frozen = false

    /// The caller's watch broke: the view keeps every state as it is.
    public mutating func freeze() { frozen = true }

    /// The watch is back (and has delivered what it missed, or will next): every
    /// alive node's stale clock restarts at `now`, so a node turns STALE only
    /// after a full stale window of its own with the caller connected. O(n), once
    /// per outage.
    public mutating func thaw(now: Double) {
        guard frozen else { return }
        frozen = false
        catchUpAt = now
        for name in entries.keys where entries[name]?.state == .alive {
            guard var entry = entries[name] else { continue }
            entry.pardonedAt = now
            schedule(&entry, name: name)
            entries[name] = entry
        }
    }

    /// A node with neither heartbeat, registry entry nor stored state is gone
    /// (an operator's `monitorctl node forget`): dropped, true.
    private mutating func forget(_ name: String, _ entry: Entry) -> Bool {
        guard entry.registry == nil && entry.heartbeat == nil && entry.stored == nil else { return false }
        if let state = entry.state { counts[state, default: 0] -= 1 }
        entries[name] = nil
        return true
    }

    /// Re-checks the nodes whose stale deadline has passed at `now` (call at
    /// `nextDeadline()`); costs O(k log n) for k due nodes, not O(n).
    public mutating func tick(now: Double) -> [Transition] {
        guard !frozen else { return [] }
        var due: [String] = []
        while let top = deadlines.min, top.deadline <= now {
            deadlines.popMin()
            // An outdated item: the node beat again (or changed state) since.
            if entries[top.node]?.deadline == top.deadline { due.append(top.node) }
        }
        return reevaluate(due, now: now, checkAlerts: [])
    }

    /// Nodes the caller found stale for a reason outside them (etcd refused every
    /// agent's writes): alive again without a transition, since and last seen
    /// unchanged, their stale clock restarted at `now`, so a node whose rounds
    /// still do not come once writes are possible again is reported STALE a full
    /// period later. Nodes that are not stale are left alone.
    public mutating func pardon(_ names: [String], now: Double) {
        for name in names {
            guard var entry = entries[name], entry.state == .stale else { continue }
            counts[.stale, default: 0] -= 1
            counts[.alive, default: 0] += 1
            entry.state = .alive
            entry.since = entry.aliveSince ?? entry.since
            entry.pardonedAt = now
            schedule(&entry, name: name)
            entries[name] = entry
        }
    }

    /// What staleness is measured from: the last round received, or a later pardon.
    private static func staleClock(_ entry: Entry) -> Double? {
        switch (entry.lastSeen, entry.pardonedAt) {
        case let (seen?, pardoned?): return max(seen, pardoned)
        case let (seen, pardoned): return seen ?? pardoned
        }
    }

    /// When the earliest alive node turns stale if nothing arrives: the server
    /// sleeps until then instead of polling. O(1); may be earlier than the real
    /// next deadline (an outdated item), which costs one empty `tick`.
    public func nextDeadline() -> Double? { frozen ? nil : deadlines.min?.deadline }

    /// How many deadline items are in flight (for tests and capacity figures).
    var scheduledDeadlines: Int { deadlines.count }

    /// A node's clock this far off the caller's (seconds) is reported once
    /// (CLOCK_SKEW); back within `skewTolerance / 2`, once more (CLOCK_OK).
    public static let skewTolerance = 2.0
    /// Rounds the skew estimate spans: it is the largest of their samples, since
    /// a late delivery (a busy loop, a replay after an outage) only makes a
    /// sample smaller, never larger.
    static let skewRounds = 3
    /// Rounds arriving this soon after a snapshot or a thaw are replays, not news
    /// of the node's clock: not sampled.
    static let skewQuietAfterCatchUp = 2.0
    private var catchUpAt: Double = -.infinity

    /// How long a live node keeps its state while its key holds someone else's
    /// value without a lease: its agent restores the key within milliseconds; one
    /// that does not is dead (its lease no longer holds the key).
    public static let leaselessGrace = 10.0

    private static func inLeaselessGrace(_ entry: Entry, now: Double) -> Bool {
        guard entry.heartbeat?.leased == false, let since = entry.leaselessSince,
              entry.state == .alive || entry.state == .stale else { return false }
        return now - since < leaselessGrace
    }

    /// The stale deadline of an entry in its current state, nil when it has none.
    private func deadline(of entry: Entry) -> Double? {
        if entry.heartbeat?.leased == false, let since = entry.leaselessSince, entry.state == .alive || entry.state == .stale {
            return since + Self.leaselessGrace + 0.001
        }
        guard entry.state == .alive, entry.heartbeat != nil, let seen = Self.staleClock(entry) else { return nil }
        return seen + rules.staleAfter(interval: entry.heartbeat?.heartbeat?.interval) + 0.001
    }

    /// Records `entry`'s current deadline, queueing it when it changed.
    private mutating func schedule(_ entry: inout Entry, name: String) {
        let wanted = deadline(of: entry)
        guard wanted != entry.deadline else { return }
        entry.deadline = wanted
        if let wanted { deadlines.push(wanted, name) }
    }

    /// New rules: every alive node's deadline again, from scratch.
    private mutating func rescheduleAll() {
        deadlines.removeAll()
        for name in entries.keys {
            guard var entry = entries[name] else { continue }
            entry.deadline = nil
            schedule(&entry, name: name)
            entries[name] = entry
        }
    }

    /// The view the CLI would compute, with the server's own last-seen times.
    public func view(now: Double) -> FleetView {
        var nodes: [FleetView.Node] = []
        for name in entries.keys.sorted() {
            nodes.append(node(name, now: now))
        }
        return FleetView(nodes: nodes, now: now)
    }

    /// "3 nodes: 2 alive, 1 dead", from the running counts.
    public var summary: String { FleetView.summary(counts: counts) }

    /// One node as the view shows it now.
    public func node(named name: String, now: Double) -> FleetView.Node? {
        entries[name] == nil ? nil : node(name, now: now)
    }

    public func state(of name: String) -> FleetView.State? { entries[name]?.state }

    /// The lease of the node's last round (its agent's lease), when known.
    public func roundLease(of name: String) -> Int64? { entries[name]?.roundLease }

    private func node(_ name: String, now: Double) -> FleetView.Node {
        let entry = entries[name] ?? Entry()
        var node = FleetView.node(name: name, heartbeat: entry.heartbeat, registry: entry.registry, now: now,
                                  rules: rules, lastSeen: Self.staleClock(entry), lastRoundTs: entry.lastRoundTs)
        // A pardon moves the stale clock, not what was seen.
        if entry.pardonedAt != nil { node.lastSeen = entry.lastSeen }
        // A live node's key overwritten without a lease (someone else's put): the
        // value proves nothing either way and its agent puts it back at once, so
        // the node keeps its state, flagged, rather than a false DEAD; if nothing
        // puts it back within `leaselessGrace`, it is judged by what is there.
        if Self.inLeaselessGrace(entry, now: now), let state = entry.state {
            node.state = state
        }
        if entry.heartbeat == nil && entry.stoppingMarked { node.state = .stopped }
        // Known only from the stored record (a lab node whose key went away):
        // as last judged, never alive without a heartbeat.
        if entry.heartbeat == nil && entry.registry == nil, let stored = entry.stored, stored.state == .stopped {
            node.state = .stopped
        }
        // Blind: time passing proves nothing, every node keeps its state.
        if frozen, let state = entry.state { node.state = state }
        if let state = entry.state, state == node.state { node.since = entry.since }
        node.clockSkew = entry.skewFlagged
        // Before this server saw a round: when the server that wrote the record did.
        if entry.lastSeen == nil, let seen = entry.stored?.lastSeen { node.lastSeen = seen - wallOffset }
        return node
    }

    private mutating func reevaluate(_ names: [String], now: Double, checkAlerts: Set<String>) -> [Transition] {
        var transitions: [Transition] = []
        for name in Set(names).sorted() {
            guard var entry = entries[name] else { continue }
            let computed = node(name, now: now)
            let old = entry.state
            if old == nil, let stored = entry.stored {
                // First learnt, and a server judged it before: the record's state
                // is what it was, so only a difference is news; `differences()`
                // reports it when this server leads.
                counts[computed.state, default: 0] += 1
                entry.state = computed.state
                let same = stored.state == computed.state
                entry.since = same ? stored.since - wallOffset : now
                entry.reason = same ? stored.reason : Self.detail(from: stored.state, to: computed.state)
                if computed.state == .alive { entry.aliveSince = entry.since }
            } else if old != computed.state {
                if let old { counts[old, default: 0] -= 1 }
                counts[computed.state, default: 0] += 1
                entry.state = computed.state
                entry.since = now
                entry.reason = Self.detail(from: old, to: computed.state)
                if computed.state == .alive { entry.aliveSince = now }
                if let event = Self.event(from: old, to: computed.state) {
                    transitions.append(Transition(node: name, event: event, detail: entry.reason, state: computed.state))
                }
            }
            if checkAlerts.contains(name) {
                transitions += alerts(&entry, name: name, metrics: computed.metrics, state: computed.state)
            }
            schedule(&entry, name: name)
            entries[name] = entry
        }
        return transitions
    }

    /// Where the stored records (the leading server's) differ from this view:
    /// the transitions that happened while no server led (or this one was not
    /// watching), each once, and the nodes that have no record yet although
    /// their state is no news (dead or stopped before any server recorded
    /// them). The server calls it when it becomes the leader, then writes a
    /// record for every node named here.
    public func differences() -> (transitions: [Transition], unrecorded: [String]) {
        var transitions: [Transition] = [], unrecorded: [String] = []
        for name in entries.keys.sorted() {
            guard let entry = entries[name], let state = entry.state else { continue }
            guard let stored = entry.stored else {
                if state == .alive || state == .stale {
                    transitions.append(Transition(node: name, event: state == .alive ? .alive : .stale,
                                                  detail: state == .alive ? "first seen" : entry.reason, state: state))
                } else {
                    unrecorded.append(name)
                }
                continue
            }
            guard stored.state != state, let event = Self.event(from: stored.state, to: state) else { continue }
            transitions.append(Transition(node: name, event: event, detail: Self.detail(from: stored.state, to: state),
                                          state: state))
        }
        return (transitions, unrecorded)
    }

    /// The record the leading server writes for `name` now (`<prefix>/state/<name>`),
    /// in wall-clock seconds; nil for an unknown node or one without a state yet.
    public func record(of name: String, server: String) -> NodeState? {
        guard let entry = entries[name], let state = entry.state else { return nil }
        let lastSeen = entry.lastSeen.map { $0 + wallOffset } ?? entry.stored?.lastSeen
        return NodeState(state: state, since: entry.since + wallOffset, lastSeen: lastSeen, reason: entry.reason,
                         server: server, clockSkew: entry.skewFlagged)
    }

    /// The record `name` has in etcd, as last read.
    public func storedState(of name: String) -> NodeState? { entries[name]?.stored }

    /// What a state change is called; nil when a node first learnt from the
    /// registry is already dead or stopped (not news: it happened before).
    private static func event(from old: FleetView.State?, to new: FleetView.State) -> Event? {
        switch new {
        case .alive: return .alive
        case .stale: return .stale
        case .dead: return old == nil ? nil : .dead
        case .stopped: return old == nil ? nil : .left
        }
    }

    private static func detail(from old: FleetView.State?, to new: FleetView.State) -> String {
        switch (old, new) {
        case (nil, .alive): return "first seen"
        case (.stale?, .alive): return "rounds resumed"
        case (_, .alive): return "back"
        case (_, .stale): return "lease alive but no new round"
        case (_, .dead): return "lease expired"
        case (_, .stopped): return "clean stop"
        }
    }

    private func alerts(_ entry: inout Entry, name: String, metrics: [String: Double],
                        state: FleetView.State) -> [Transition] {
        var out: [Transition] = []
        // Ahead shows at once; behind only when every recent round says so.
        if let skew = entry.skewSamples.max(), skew > 0 || entry.skewSamples.count == Self.skewRounds {
            let text = Interval.text(abs(skew).rounded())
            if abs(skew) > Self.skewTolerance, entry.skewFlagged == nil {
                entry.skewFlagged = skew.rounded()
                out.append(Transition(node: name, event: .clockSkew,
                                      detail: "clock \(text) \(skew > 0 ? "ahead of" : "behind") the server's", state: state))
            } else if abs(skew) < Self.skewTolerance / 2, entry.skewFlagged != nil {
                entry.skewFlagged = nil
                out.append(Transition(node: name, event: .clockOK, detail: "clock back within \(Interval.text(Self.skewTolerance / 2)) of the server's", state: state))
            }
        }
        let checks: [(MetricName, Double, Event, Event)] = [
            (.cpu, thresholds.cpuPercent, .cpuHigh, .cpuOK),
            (.memory, thresholds.memoryPercent, .memoryHigh, .memoryOK),
        ]
        for (metric, limit, high, ok) in checks {
            guard let value = metrics[metric.rawValue] else { continue }
            let figure = FixedPoint.text(value, places: 1) + "%", line = FixedPoint.shortest(limit) + "%"
            if value >= limit, !entry.alerts.contains(high) {
                entry.alerts.insert(high)
                out.append(Transition(node: name, event: high, detail: "\(metric.rawValue) \(figure) >= \(line)", state: state))
            } else if value < limit - thresholds.hysteresis, entry.alerts.contains(high) {
                entry.alerts.remove(high)
                out.append(Transition(node: name, event: ok, detail: "\(metric.rawValue) back to \(figure)", state: state))
            }
        }
        return out
    }
}
