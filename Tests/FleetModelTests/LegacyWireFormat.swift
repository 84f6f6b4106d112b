@testable import FleetModel
import Foundation

/// The JSONSerialization code that wrote and read etcd values before the move to
/// Codable, kept verbatim as an oracle: the new encoders must produce the same
/// bytes, the new parsers the same results.
enum Legacy {
    static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }
    static func encodable(_ value: Double) -> Any { Int64(exactly: value).map { $0 as Any } ?? value as Any }
    static func double(_ any: Any?) -> Double? {
        guard let n = any as? NSNumber, !isBool(n) else { return nil }
        let d = n.doubleValue
        return d.isFinite ? d : nil
    }

    static func encode(_ hb: Heartbeat) -> [UInt8] {
        var dict: [String: Any] = ["status": hb.status, "ts": hb.ts, "hostname": hb.hostname]
        if let interval = hb.interval { dict["interval"] = encodable(interval) }
        if let node = hb.node { dict["node"] = node }
        if let version = hb.version { dict["version"] = version }
        if let seq = hb.seq { dict["seq"] = seq }
        if let metrics = hb.metrics { dict["metrics"] = metrics.mapValues { ($0 * 100).rounded() / 100 } }
        if let v = hb.memoryTotalBytes { dict["memory_total_bytes"] = v }
        if let v = hb.memoryAvailableBytes { dict["memory_available_bytes"] = v }
        if let configError = hb.configError { dict["config_error"] = configError }
        return [UInt8]((try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data())
    }

    static func encode(_ r: NodeRecord) -> [UInt8] {
        var dict: [String: Any] = [
            "node": r.node, "hostname": r.hostname, "version": r.version,
            "first_start": encodable(r.firstStart), "last_start": encodable(r.lastStart), "stopped": r.stopped,
        ]
        if let stoppedAt = r.stoppedAt { dict["stopped_at"] = encodable(stoppedAt) }
        return [UInt8]((try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func encode(_ p: AgentConfigPatch) -> [UInt8] {
        var dict: [String: Any] = [:]
        if let interval = p.interval { dict["interval"] = encodable(interval) }
        if let metrics = p.metrics { dict["metrics"] = metrics }
        return [UInt8]((try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func object(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    static func heartbeat(_ bytes: [UInt8]) -> Result<Heartbeat, HeartbeatError> {
        guard bytes.count <= Heartbeat.maxValueSize else {
            return .failure(HeartbeatError(message: "value of \(bytes.count) bytes exceeds \(Heartbeat.maxValueSize)"))
        }
        guard let dict = object(bytes) as? [String: Any] else {
            return .failure(HeartbeatError(message: "not a JSON object (\(AgentConfigPatch.preview(bytes)))"))
        }
        guard let status = dict["status"] as? String else {
            return .failure(HeartbeatError(message: "missing \"status\" (expected \"alive\" or \"stopping\")"))
        }
        var hb = Heartbeat(status: status, ts: double(dict["ts"]) ?? 0, hostname: dict["hostname"] as? String ?? "")
        hb.interval = double(dict["interval"])
        hb.node = dict["node"] as? String
        hb.version = dict["version"] as? String
        hb.seq = double(dict["seq"]).flatMap { Int64(exactly: $0.rounded()) }
        if let metrics = dict["metrics"] as? [String: Any] {
            var figures: [String: Double] = [:]
            for (name, value) in metrics { if let v = double(value), v.isFinite { figures[name] = v } }
            hb.metrics = figures
        }
        hb.memoryTotalBytes = double(dict["memory_total_bytes"]).flatMap { $0 >= 0 ? UInt64(exactly: $0.rounded()) : nil }
        hb.memoryAvailableBytes = double(dict["memory_available_bytes"]).flatMap { $0 >= 0 ? UInt64(exactly: $0.rounded()) : nil }
        hb.configError = dict["config_error"] as? String
        return .success(hb)
    }

    static func record(_ bytes: [UInt8]) -> Result<NodeRecord, NodeRecordError> {
        guard bytes.count <= NodeRecord.maxValueSize else {
            return .failure(NodeRecordError(message: "value of \(bytes.count) bytes exceeds \(NodeRecord.maxValueSize)"))
        }
        guard let dict = object(bytes) as? [String: Any] else {
            return .failure(NodeRecordError(message: "not a JSON object (\(AgentConfigPatch.preview(bytes))); expected "
                                            + "{\"node\": ..., \"last_start\": <unix seconds>, \"stopped\": true|false, ...}"))
        }
        func timestamp(_ any: Any?) -> Double? { double(any).flatMap { $0 >= 0 ? $0 : nil } }
        var record = NodeRecord(node: dict["node"] as? String ?? "", hostname: dict["hostname"] as? String ?? "",
                                version: dict["version"] as? String ?? "",
                                firstStart: timestamp(dict["first_start"]) ?? 0, lastStart: timestamp(dict["last_start"]) ?? 0)
        if let flag = dict["stopped"] as? NSNumber, isBool(flag) { record.stopped = flag.boolValue }
        record.stoppedAt = timestamp(dict["stopped_at"])
        return .success(record)
    }

    static func patch(_ bytes: [UInt8]) -> Result<AgentConfigPatch, AgentConfigError> {
        guard let object = object(bytes) else {
            return .failure(AgentConfigError(message: "not valid JSON (\(AgentConfigPatch.preview(bytes)))"))
        }
        guard let dict = object as? [String: Any] else {
            return .failure(AgentConfigError(message: "expected a JSON object like {\"interval\": 10, \"metrics\": [\"cpu\"]}, got \(AgentConfigPatch.preview(bytes))"))
        }
        func describe(_ any: Any) -> String {
            if let s = any as? String { return "\"\(s.prefix(40))\"" }
            if let n = any as? NSNumber { return isBool(n) ? (n.boolValue ? "true" : "false") : "\(n)" }
            if any is [Any] { return "a list" }
            if any is [String: Any] { return "an object" }
            return "\(any)"
        }
        var patch = AgentConfigPatch()
        if let raw = dict["interval"], !(raw is NSNull) {
            guard let seconds = double(raw), AgentConfig.intervalRange.contains(seconds) else {
                return .failure(AgentConfigError(message: "\"interval\": expected a number of seconds from 1 to 86400, got \(describe(raw))"))
            }
            patch.interval = seconds
        }
        if let raw = dict["metrics"], !(raw is NSNull) {
            guard let list = raw as? [Any], list.allSatisfy({ $0 is String }) else {
                return .failure(AgentConfigError(message: "\"metrics\": expected a list of metric names like [\"cpu\", \"memory\"], got \(describe(raw))"))
            }
            patch.metrics = list.compactMap { $0 as? String }
        }
        return .success(patch)
    }
}
