#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSONStream

/// The value under `<prefix>/heartbeat/<node>`: a superset of the lab's
/// `{"status":"alive","ts":...,"hostname":...}`. Parsing accepts the lab's bare
/// form; every field but `status` is optional.
public struct Heartbeat: Equatable, Sendable {
    public static let alive = "alive"
    /// Written just before a clean stop revokes the lease: the DELETE that follows
    /// is a LEFT, not a DEAD.
    public static let stopping = "stopping"

    public var status: String
    /// Unix seconds of the round that wrote it.
    public var ts: Double
    public var hostname: String
    /// Round period in force, seconds.
    public var interval: Double?
    public var node: String?
    public var version: String?
    /// Rounds since the agent started.
    public var seq: Int64?
    /// Latest round's figures, by metric name.
    public var metrics: [String: Double]?
    /// Cumulative totals by `CounterName` raw value (a newer agent's; nil from
    /// older and lab agents).
    public var counters: [String: Double]?
    public var memoryTotalBytes: UInt64?
    public var memoryAvailableBytes: UInt64?
    /// Why the latest config value was rejected, until a good one arrives.
    public var configError: String?
    /// The agent's machine (`/etc/machine-id`): two machines using one node name
    /// (cloned VMs) tell themselves apart by it. Nil from older and lab agents.
    public var machineID: String?

    public init(status: String = Heartbeat.alive, ts: Double, hostname: String, interval: Double? = nil,
                node: String? = nil, version: String? = nil, seq: Int64? = nil,
                metrics: [String: Double]? = nil, configError: String? = nil) {
        self.status = status
        self.ts = ts
        self.hostname = hostname
        self.interval = interval
        self.node = node
        self.version = version
        self.seq = seq
        self.metrics = metrics
        self.configError = configError
    }

    public var isStopping: Bool { status == Heartbeat.stopping }

    /// Sorted keys, whole `interval` as an integer, metrics rounded to 2 decimals;
    /// empty when a figure cannot be written (NaN), as before.
    public func encoded() -> [UInt8] {
        (try? JSONCoding.encode(Written(self))) ?? []
    }

    /// Parses a heartbeat value. Wrong types of optional fields are ignored (a
    /// newer or older agent must not make the node unreadable); a value that is
    /// not a JSON object, or lacks a string `status`, is an error.
    public static func parse(_ bytes: [UInt8]) throws -> Heartbeat {
        guard bytes.count <= maxValueSize else {
            throw HeartbeatError(message: "value of \(bytes.count) bytes exceeds \(maxValueSize)")
        }
        let read: Heartbeat?
        do { read = try Self.read(bytes) } catch {
            throw HeartbeatError(message: "not a JSON object (\(AgentConfigPatch.preview(bytes)))")
        }
        guard let heartbeat = read else {
            throw HeartbeatError(message: "missing \"status\" (expected \"alive\" or \"stopping\")")
        }
        return heartbeat
    }

    /// Heartbeats are small; anything this large is not ours and is not parsed.
    public static let maxValueSize = 64 * 1024

    /// Field names on the wire (snake_case, as the lab and older agents write them).
    private enum Key: String, CodingKey {
        case status, ts, hostname, interval, node, version, seq, metrics, counters
        case memoryTotalBytes = "memory_total_bytes", memoryAvailableBytes = "memory_available_bytes"
        case configError = "config_error", machineID = "machine_id"
    }

    /// A heartbeat read field by field in one pass over the bytes (the server reads
    /// one per round per node); nil when `status` is not a string. Throws only when
    /// the value is not a JSON object. Every field is lenient: one of another type
    /// reads as absent; of duplicate fields the last counts, as in the lab's Python.
    private static func read(_ bytes: [UInt8]) throws -> Heartbeat? {
        var reader = JSONReader(bytes)
        var status: String?
        var hb = Heartbeat(ts: 0, hostname: "")
        try reader.object { reader, key in
            switch Key(rawValue: key) {
            case .status: status = try reader.string()
            case .ts: hb.ts = try reader.number() ?? 0
            case .hostname: hb.hostname = try reader.string() ?? ""
            case .interval: hb.interval = try reader.number()
            case .node: hb.node = try reader.string()
            case .version: hb.version = try reader.string()
            // Through Double like before: a fractional or huge seq is nil, never a trap.
            case .seq: hb.seq = try reader.number().flatMap { Int64(exactly: $0.rounded()) }
            case .metrics: hb.metrics = try Self.figures(&reader)
            case .counters: hb.counters = try Self.figures(&reader)
            case .memoryTotalBytes: hb.memoryTotalBytes = try reader.number().flatMap(Self.byteCount)
            case .memoryAvailableBytes: hb.memoryAvailableBytes = try reader.number().flatMap(Self.byteCount)
            case .configError: hb.configError = try reader.string()
            case .machineID: hb.machineID = try reader.string()
            case nil: try reader.skip()
            }
        }
        try reader.end()
        guard let status else { return nil }
        hb.status = status
        return hb
    }

    /// An object of numbers (others left out); nil when not an object.
    private static func figures(_ reader: inout JSONReader) throws -> [String: Double]? {
        guard try reader.kind() == .object else {
            try reader.skip()
            return nil
        }
        var figures: [String: Double] = [:]
        try reader.object { reader, name in
            if let value = try reader.number() { figures[name] = value } else { figures[name] = nil }
        }
        return figures
    }

    private static func byteCount(_ value: Double) -> UInt64? {
        value >= 0 ? UInt64(exactly: value.rounded()) : nil
    }

    /// A heartbeat as written: absent optionals are left out; `ts` and metrics are
    /// plain Doubles (JSONEncoder writes 12.0 as 12, as JSONSerialization did).
    private struct Written: Encodable {
        let hb: Heartbeat
        init(_ hb: Heartbeat) { self.hb = hb }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(hb.status, forKey: .status)
            try c.encode(hb.ts, forKey: .ts)
            try c.encode(hb.hostname, forKey: .hostname)
            try c.encodeIfPresent(hb.interval.map(WholeNumber.init), forKey: .interval)
            try c.encodeIfPresent(hb.node, forKey: .node)
            try c.encodeIfPresent(hb.version, forKey: .version)
            try c.encodeIfPresent(hb.seq, forKey: .seq)
            try c.encodeIfPresent(hb.metrics?.mapValues { ($0 * 100).rounded() / 100 }, forKey: .metrics)
            // Whole numbers: byte counts and centiseconds-precise CPU seconds.
            try c.encodeIfPresent(hb.counters?.mapValues { ($0 * 100).rounded() / 100 }, forKey: .counters)
            try c.encodeIfPresent(hb.memoryTotalBytes, forKey: .memoryTotalBytes)
            try c.encodeIfPresent(hb.memoryAvailableBytes, forKey: .memoryAvailableBytes)
            try c.encodeIfPresent(hb.configError, forKey: .configError)
            try c.encodeIfPresent(hb.machineID, forKey: .machineID)
        }
    }
}

public struct HeartbeatError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
