import Foundation

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
    public var memoryTotalBytes: UInt64?
    public var memoryAvailableBytes: UInt64?
    /// Why the latest config value was rejected, until a good one arrives.
    public var configError: String?

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

    public func encoded() -> [UInt8] {
        var dict: [String: Any] = ["status": status, "ts": ts, "hostname": hostname]
        if let interval { dict["interval"] = JSONNumber.encodable(interval) }
        if let node { dict["node"] = node }
        if let version { dict["version"] = version }
        if let seq { dict["seq"] = seq }
        if let metrics { dict["metrics"] = metrics.mapValues { ($0 * 100).rounded() / 100 } }
        if let memoryTotalBytes { dict["memory_total_bytes"] = memoryTotalBytes }
        if let memoryAvailableBytes { dict["memory_available_bytes"] = memoryAvailableBytes }
        if let configError { dict["config_error"] = configError }
        let data = (try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data()
        return [UInt8](data)
    }

    /// Parses a heartbeat value. Wrong types of optional fields are ignored (a
    /// newer or older agent must not make the node unreadable); a value that is
    /// not a JSON object, or lacks a string `status`, is an error.
    public static func parse(_ bytes: [UInt8]) throws -> Heartbeat {
        guard bytes.count <= maxValueSize else {
            throw HeartbeatError(message: "value of \(bytes.count) bytes exceeds \(maxValueSize)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
              let dict = object as? [String: Any] else {
            throw HeartbeatError(message: "not a JSON object (\(AgentConfigPatch.preview(bytes)))")
        }
        guard let status = dict["status"] as? String else {
            throw HeartbeatError(message: "missing \"status\" (expected \"alive\" or \"stopping\")")
        }
        var hb = Heartbeat(status: status, ts: number(dict["ts"]) ?? 0, hostname: dict["hostname"] as? String ?? "")
        hb.interval = number(dict["interval"])
        hb.node = dict["node"] as? String
        hb.version = dict["version"] as? String
        hb.seq = number(dict["seq"]).flatMap { Int64(exactly: $0.rounded()) }
        if let metrics = dict["metrics"] as? [String: Any] {
            var figures: [String: Double] = [:]
            for (name, value) in metrics { if let v = number(value), v.isFinite { figures[name] = v } }
            hb.metrics = figures
        }
        hb.memoryTotalBytes = number(dict["memory_total_bytes"]).flatMap { $0 >= 0 ? UInt64(exactly: $0.rounded()) : nil }
        hb.memoryAvailableBytes = number(dict["memory_available_bytes"]).flatMap { $0 >= 0 ? UInt64(exactly: $0.rounded()) : nil }
        hb.configError = dict["config_error"] as? String
        return hb
    }

    /// Heartbeats are small; anything this large is not ours and is not parsed.
    public static let maxValueSize = 64 * 1024

    private static func number(_ any: Any?) -> Double? { JSONNumber.double(any) }
}

public struct HeartbeatError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
