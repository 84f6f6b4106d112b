import JSONStream

/// The value under `<prefix>/state/<node>`: a node's state as the leading
/// monitor-serverd judged it, written once per transition (never per round), so
/// that `monitorctl`, a restarted server and a standby taking over all read
/// one truth: since when a node is dead or stopped, when a round was last
/// received (by the server's clock, not the node's), and the node's clock skew.
///
/// `{"state":"dead","since":1763726400,"last_seen":1763726391,"reason":"lease expired",
///   "server":"master","clock_skew":-120}`
public struct NodeState: Equatable, Sendable {
    public var state: FleetView.State
    /// Unix seconds (server clock) of the transition into `state`.
    public var since: Double
    /// Unix seconds (server clock) when the server last received a round; nil if never.
    public var lastSeen: Double?
    /// Why: "first seen", "lease expired", "clean stop", ...
    public var reason: String
    /// The host name of the server that wrote it.
    public var server: String
    /// The node's clock minus the server's, in whole seconds, when beyond the
    /// tolerance (`Heartbeat.skewTolerance`); nil when in range or unknown.
    public var clockSkew: Double?

    public init(state: FleetView.State, since: Double, lastSeen: Double?, reason: String, server: String,
                clockSkew: Double? = nil) {
        self.state = state
        self.since = since
        self.lastSeen = lastSeen
        self.reason = reason
        self.server = server
        self.clockSkew = clockSkew
    }

    /// Sorted keys, whole seconds as integers.
    public func encoded() -> [UInt8] {
        (try? JSONCoding.encode(Written(self))) ?? Array("{}".utf8)
    }

    /// Parses a state value; nil when it is not one (not an object, no known
    /// state, absurdly large): readers then fall back to their own judgement.
    public static func parse(_ bytes: [UInt8]) -> NodeState? {
        guard bytes.count <= NodeRecord.maxValueSize else { return nil }
        var reader = JSONReader(bytes)
        var state: FleetView.State?, since: Double?, lastSeen: Double?, skew: Double?
        var reason = "", server = ""
        do {
            try reader.object { reader, key in
                switch Key(rawValue: key) {
                case .state: state = try reader.string().flatMap(FleetView.State.init(rawValue:))
                case .since: since = try reader.number().flatMap { $0 >= 0 ? $0 : nil }
                case .lastSeen: lastSeen = try reader.number().flatMap { $0 >= 0 ? $0 : nil }
                case .reason: reason = try reader.string() ?? ""
                case .server: server = try reader.string() ?? ""
                case .clockSkew: skew = try reader.number()
                case nil: try reader.skip()
                }
            }
            try reader.end()
        } catch {
            return nil
        }
        guard let state, let since else { return nil }
        return NodeState(state: state, since: since, lastSeen: lastSeen, reason: reason, server: server, clockSkew: skew)
    }

    private enum Key: String, CodingKey {
        case state, since, reason, server, lastSeen = "last_seen", clockSkew = "clock_skew"
    }

    private struct Written: Encodable {
        let value: NodeState
        init(_ value: NodeState) { self.value = value }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(value.state.rawValue, forKey: .state)
            try c.encode(WholeNumber(value.since.rounded(.down)), forKey: .since)
            try c.encodeIfPresent(value.lastSeen.map { WholeNumber($0.rounded(.down)) }, forKey: .lastSeen)
            try c.encode(value.reason, forKey: .reason)
            try c.encode(value.server, forKey: .server)
            try c.encodeIfPresent(value.clockSkew.map { WholeNumber($0.rounded()) }, forKey: .clockSkew)
        }
    }
}

/// The value under `<prefix>/leader`, held under the leading server's election
/// lease: who writes node states and reports transitions now. Gone within the
/// lease's TTL when that server dies, at once when it stops cleanly.
///
/// `{"server":"master","pid":812,"since":1763726400,"version":"0.1.0"}`
public struct LeaderRecord: Equatable, Sendable {
    public var server: String
    public var pid: Int
    public var since: Double
    public var version: String

    public init(server: String, pid: Int, since: Double, version: String) {
        self.server = server
        self.pid = pid
        self.since = since
        self.version = version
    }

    public func encoded() -> [UInt8] {
        (try? JSONCoding.encode(Written(self))) ?? Array("{}".utf8)
    }

    /// Lenient like the other records; nil only when it is not a JSON object.
    public static func parse(_ bytes: [UInt8]) -> LeaderRecord? {
        guard bytes.count <= NodeRecord.maxValueSize else { return nil }
        var reader = JSONReader(bytes)
        var record = LeaderRecord(server: "", pid: 0, since: 0, version: "")
        do {
            try reader.object { reader, key in
                switch Key(rawValue: key) {
                case .server: record.server = try reader.string() ?? ""
                case .pid: record.pid = try reader.number().flatMap { Int(exactly: $0) } ?? 0
                case .since: record.since = try reader.number() ?? 0
                case .version: record.version = try reader.string() ?? ""
                case nil: try reader.skip()
                }
            }
            try reader.end()
        } catch {
            return nil
        }
        return record
    }

    private enum Key: String, CodingKey { case server, pid, since, version }

    private struct Written: Encodable {
        let value: LeaderRecord
        init(_ value: LeaderRecord) { self.value = value }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(value.server, forKey: .server)
            try c.encode(value.pid, forKey: .pid)
            try c.encode(WholeNumber(value.since.rounded(.down)), forKey: .since)
            try c.encode(value.version, forKey: .version)
        }
    }
}
