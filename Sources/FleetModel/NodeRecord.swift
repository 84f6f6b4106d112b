import Foundation

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
                               previous: NodeRecord?) -> NodeRecord {
        let first = previous.map(\.firstStart).flatMap { $0 > 0 ? $0 : nil } ?? now
        return NodeRecord(node: node, hostname: hostname, version: version,
                          firstStart: first, lastStart: now, stopped: false, stoppedAt: nil)
    }

    /// This record marked as cleanly stopped at `now`.
    public func stopping(at now: Double) -> NodeRecord {
        var record = self
        record.stopped = true
        record.stoppedAt = now
        return record
    }

    public func encoded() -> [UInt8] {
        var dict: [String: Any] = [
            "node": node, "hostname": hostname, "version": version,
            "first_start": JSONNumber.encodable(firstStart), "last_start": JSONNumber.encodable(lastStart), "stopped": stopped,
        ]
        if let stoppedAt { dict["stopped_at"] = JSONNumber.encodable(stoppedAt) }
        let data = (try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data("{}".utf8)
        return [UInt8](data)
    }

    /// Parses a registry value. Like `Heartbeat.parse`, lenient: a field that is
    /// missing or of the wrong type takes its zero value ("", 0, false, nil), so a
    /// newer or older agent never makes a node unreadable. Only a value that is not
    /// a JSON object (or is absurdly large) is an error; callers show its message.
    public static func parse(_ bytes: [UInt8]) throws -> NodeRecord {
        guard bytes.count <= maxValueSize else {
            throw NodeRecordError(message: "value of \(bytes.count) bytes exceeds \(maxValueSize)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
              let dict = object as? [String: Any] else {
            throw NodeRecordError(message: "not a JSON object (\(AgentConfigPatch.preview(bytes))); expected "
                                  + "{\"node\": ..., \"last_start\": <unix seconds>, \"stopped\": true|false, ...}")
        }
        var record = NodeRecord(node: dict["node"] as? String ?? "", hostname: dict["hostname"] as? String ?? "",
                                version: dict["version"] as? String ?? "",
                                firstStart: timestamp(dict["first_start"]) ?? 0,
                                lastStart: timestamp(dict["last_start"]) ?? 0)
        if let flag = dict["stopped"] as? NSNumber, JSONNumber.isBool(flag) { record.stopped = flag.boolValue }
        record.stoppedAt = timestamp(dict["stopped_at"])
        return record
    }

    /// Registry values are small; anything this large is not ours and is not parsed.
    public static let maxValueSize = 64 * 1024

    /// A non-negative finite number of seconds, else nil.
    private static func timestamp(_ any: Any?) -> Double? {
        JSONNumber.double(any).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Whole seconds as integers, so the stored value reads naturally.
}

public struct NodeRecordError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
