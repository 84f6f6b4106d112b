import EtcdClient
import Foundation
import MonitorCore

/// The server's knowledge of every node, built from the heartbeat prefix: a full
/// snapshot at start (and after compaction), then watch events in revision order.
/// Pure logic, no I/O: feed it updates, get back the transitions to report. Each
/// node moves between alive, left (clean stop) and dead (lease expired); a
/// transition is reported once, never per heartbeat.
public struct FleetState: Sendable {
    public enum NodeState: String, Sendable {
        case alive, left, dead
    }

    public struct Node: Sendable {
        public var name: String
        public var state: NodeState
        /// Unix seconds of the last state change.
        public var since: Double
        /// Unix seconds the server last saw a heartbeat put.
        public var lastSeen: Double
        /// The latest parsed value (nil when it did not parse).
        public var heartbeat: Heartbeat?
        /// Why the latest value did not parse; the node still counts as alive:
        /// its lease is what proves it alive.
        public var valueError: String?
    }

    public enum Event: String, Sendable {
        case alive = "ALIVE", left = "LEFT", dead = "DEAD"
    }

    public struct Transition: Equatable, Sendable {
        public var node: String
        public var event: Event
        /// "first seen", "back", "clean stop", "lease expired", ...
        public var detail: String
    }

    public private(set) var nodes: [String: Node] = [:]
    private let layout: KeyLayout

    public init(layout: KeyLayout) {
        self.layout = layout
    }

    /// The whole current state. Nodes alive before but absent now went away
    /// while we were not watching: DEAD, or LEFT if their last value said stopping.
    public mutating func apply(snapshot kvs: [KeyValue], now: Double) -> [Transition] {
        var transitions: [Transition] = []
        var present = Set<String>()
        for kv in kvs {
            guard let name = layout.node(fromHeartbeatKey: kv.key) else { continue }
            present.insert(name)
            transitions += put(name, value: kv.value, now: now)
        }
        for name in nodes.keys.sorted() where !present.contains(name) && nodes[name]?.state == .alive {
            transitions += gone(name, previous: nil, now: now)
        }
        return transitions
    }

    public mutating func apply(events: [WatchEvent], now: Double) -> [Transition] {
        var transitions: [Transition] = []
        for event in events {
            guard let name = layout.node(fromHeartbeatKey: event.kv.key) else { continue }
            switch event.kind {
            case .put: transitions += put(name, value: event.kv.value, now: now)
            case .delete: transitions += gone(name, previous: event.previous?.value, now: now)
            }
        }
        return transitions
    }

    private mutating func put(_ name: String, value: [UInt8], now: Double) -> [Transition] {
        var node = nodes[name] ?? Node(name: name, state: .dead, since: now, lastSeen: now)
        let wasKnown = nodes[name] != nil
        do {
            node.heartbeat = try Heartbeat.parse(value)
            node.valueError = nil
        } catch {
            node.heartbeat = nil
            node.valueError = "\(error)"
        }
        node.lastSeen = now
        var transitions: [Transition] = []
        if node.state != .alive {
            node.state = .alive
            node.since = now
            transitions.append(Transition(node: name, event: .alive, detail: wasKnown ? "back" : "first seen"))
        }
        nodes[name] = node
        return transitions
    }

    private mutating func gone(_ name: String, previous: [UInt8]?, now: Double) -> [Transition] {
        guard var node = nodes[name], node.state == .alive else { return [] }
        // The stopping mark is the last put before the revoke; prev_kv carries it,
        // and our own copy is the fallback when etcd could not send it.
        let last = previous.flatMap { try? Heartbeat.parse($0) } ?? node.heartbeat
        let clean = last?.isStopping ?? false
        node.state = clean ? .left : .dead
        node.since = now
        nodes[name] = node
        return [Transition(node: name, event: clean ? .left : .dead, detail: clean ? "clean stop" : "lease expired")]
    }

    /// "3 nodes: 2 alive, 1 dead"
    public var summary: String {
        let counts = Dictionary(grouping: nodes.values, by: \.state).mapValues(\.count)
        var parts: [String] = []
        for state in [NodeState.alive, .left, .dead] {
            if let n = counts[state], n > 0 { parts.append("\(n) \(state.rawValue)") }
        }
        let total = nodes.count
        return "\(total) node\(total == 1 ? "" : "s")" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }
}
