#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSONStream

/// The value under `<prefix>/nodes/<node>`: the node registry, written by the agent
/// at every start and at a clean stop, without a lease, so a node that died keeps
/// its entry and is reported dead instead of vanishing from the view. Removed only
/// by an operator (`monitorctl node forget`).
///
/// `{"node":"worker1","hostname":"worker1.lan","version":"0.1.0","first_start":1763719200,
///   "last_start":1763722800,"stopped":true,"stopped_at":1763726400}`
public struct NodeRecord: Equatable, Sendable {
    public var node: String
    public var hostname: String
    /// The agent version that last started.
    public var version: String
    /// Unix seconds of the first start ever registered (kept across restarts).
    public var firstStart: Double
    /// Unix seconds of the latest start.
    public var lastStart: Double
    /// True after a clean stop, false while running (or after a crash).
    public var stopped: Bool
    /// Unix seconds of the clean stop; nil while running or when unknown.
    public var stoppedAt: Double?
    /// The machine (`/etc/machine-id`) and boot (`/proc/sys/kernel/random/boot_id`)
    /// of the latest start; nil when the agent did not say (older agents).
    public var machineID: String?
    public var bootID: String?

    public init(node: String, hostname: String, version: String, firstStart: Double, lastStart: Double,
                stopped: Bool = false, stoppedAt: Double? = nil) {
        self.node = node
        self.hostname = hostname
        self.version = version
        self.firstStart = firstStart
        self.lastStart = lastStart
        self.stopped = stopped
        self.stoppedAt = stoppedAt
    }

    /// The record an agent writes when it starts at `now`: `previous` (the value it
    /// read, if any and readable) keeps its `first_start`; the stop mark is cleared.
    public static func started(node: String, hostname: String, version: String, at now: Double,
                               previous: NodeRecord?, machineID: String? = nil, bootID: String? = nil) -> NodeRecord {
        let first = previous.map(\.firstStart).flatMap { $0 > 0 ? $0 : nil } ?? now
        var record = NodeRecord(node: node, hostname: hostname, version: version,
                                firstStart: first, lastStart: now, stopped: false, stoppedAt: nil)
        (record.machineID, record.bootID) = (machineID, bootID)
        return record
    }

    /// This record marked as cleanly stopped at `now`.
    public func stopping(at now: Double) -> NodeRecord {
        var record = self
        record.stopped = true
        record.stoppedAt = now
        return record
    }

    /// Sorted keys, whole seconds as integers so the stored value reads naturally.
    public func encoded() -> [UInt8] {
        (try? JSONCoding.encode(Written(self))) ?? Array("{}".utf8)
    }

    /// Parses a registry value. Like `Heartbeat.parse`, lenient: a field that is
    /// missing or of the wrong type takes its zero value ("", 0, false, nil), so a
    /// newer or older agent never makes a node unreadable. Only a value that is not
    /// a JSON object (or is absurdly large) is an error; callers show its message.
    public static func parse(_ bytes: [UInt8]) throws -> NodeRecord {
        guard bytes.count <= maxValueSize else {
            throw NodeRecordError(message: "value of \(bytes.count) bytes exceeds \(maxValueSize)")
        }
        guard let record = try? read(bytes) else {
            throw NodeRecordError(message: "not a JSON object (\(AgentConfigPatch.preview(bytes))); expected "
                                  + "{\"node\": ..., \"last_start\": <unix seconds>, \"stopped\": true|false, ...}")
        }
        return record
    }

    /// Registry values are small; anything this large is not ours and is not parsed.
    public static let maxValueSize = 64 * 1024

    /// Field names on the wire (snake_case, as in the lab's tools).
    private enum Key: String, CodingKey {
        case node, hostname, version, stopped
        case firstStart = "first_start", lastStart = "last_start", stoppedAt = "stopped_at"
        case machineID = "machine_id", bootID = "boot_id"
    }

    /// A record read field by field in one pass over the bytes. Throws only when
    /// the value is not a JSON object; every field is lenient, and of duplicate
    /// fields the last counts.
    private static func read(_ bytes: [UInt8]) throws -> NodeRecord {
        var reader = JSONReader(bytes)
        var record = NodeRecord(node: "", hostname: "", version: "", firstStart: 0, lastStart: 0)
        /// A non-negative finite number of seconds, else nil.
        func timestamp(_ reader: inout JSONReader) throws -> Double? {
            try reader.number().flatMap { $0 >= 0 ? $0 : nil }
        }
        try reader.object { reader, key in
            switch Key(rawValue: key) {
            case .node: record.node = try reader.string() ?? ""
            case .hostname: record.hostname = try reader.string() ?? ""
            case .version: record.version = try reader.string() ?? ""
            case .firstStart: record.firstStart = try timestamp(&reader) ?? 0
            case .lastStart: record.lastStart = try timestamp(&reader) ?? 0
            // Only a JSON boolean counts, not 1 or "true".
            case .stopped: record.stopped = try reader.bool() ?? false
            case .stoppedAt: record.stoppedAt = try timestamp(&reader)
            case .machineID: record.machineID = try reader.string()
            case .bootID: record.bootID = try reader.string()
            case nil: try reader.skip()
            }
        }
        try reader.end()
        return record
    }

    private struct Written: Encodable {
        let record: NodeRecord
        init(_ record: NodeRecord) { self.record = record }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(record.node, forKey: .node)
            try c.encode(record.hostname, forKey: .hostname)
            try c.encode(record.version, forKey: .version)
            try c.encode(WholeNumber(record.firstStart), forKey: .firstStart)
            try c.encode(WholeNumber(record.lastStart), forKey: .lastStart)
            try c.encode(record.stopped, forKey: .stopped)
            try c.encodeIfPresent(record.stoppedAt.map(WholeNumber.init), forKey: .stoppedAt)
            try c.encodeIfPresent(record.machineID, forKey: .machineID)
            try c.encodeIfPresent(record.bootID, forKey: .bootID)
        }
    }
}

public struct NodeRecordError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
