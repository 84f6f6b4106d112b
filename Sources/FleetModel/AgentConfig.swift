#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The live configuration of one agent: the lab's `{"interval": N, "metrics": [...]}`.
/// Unknown extra fields are ignored (backward compatible); a missing field means
/// its default.
public struct AgentConfig: Equatable, Sendable {
    /// Seconds between work rounds, 1 to 86400.
    public var interval: Double
    /// Metric names as the operator wrote them (shorthands like "disk" kept).
    public var metrics: [String]

    public static let intervalRange: ClosedRange<Double> = 1...86400
    public static let `default` = AgentConfig(interval: 10, metrics: MetricName.allCases.map(\.rawValue))

    public init(interval: Double, metrics: [String]) {
        self.interval = interval
        self.metrics = metrics
    }

    /// The config with every field `patch` sets replaced (a node's key overrides
    /// the default key field by field).
    public func applying(_ patch: AgentConfigPatch) -> AgentConfig {
        AgentConfig(interval: patch.interval ?? interval, metrics: patch.metrics ?? metrics)
    }

    /// "interval 10s, metrics [cpu, memory]"
    public var summary: String { "interval \(Interval.text(interval)), metrics \(metricsList)" }

    public var metricsList: String { "[" + metrics.joined(separator: ", ") + "]" }

    /// One line that says what changed, e.g. "interval 10s -> 2s, metrics [cpu] -> [cpu, memory]".
    public func describeChange(from old: AgentConfig) -> String {
        var parts: [String] = []
        parts.append(old.interval == interval ? "interval \(Interval.text(interval)) (unchanged)"
                     : "interval \(Interval.text(old.interval)) -> \(Interval.text(interval))")
        parts.append(old.metrics == metrics ? "metrics \(metricsList) (unchanged)"
                     : "metrics \(old.metricsList) -> \(metricsList)")
        return parts.joined(separator: ", ")
    }
}

/// The fields one config key sets. Parsing validates everything, so a patch that
/// exists is good to apply.
public struct AgentConfigPatch: Equatable, Sendable {
    public var interval: Double?
    public var metrics: [String]?

    public init(interval: Double? = nil, metrics: [String]? = nil) {
        self.interval = interval
        self.metrics = metrics
    }

    /// Parses a config value. Errors say what was expected, e.g.
    /// `"interval": expected a number of seconds from 1 to 86400, got "10s"`.
    public static func parse(_ bytes: [UInt8]) throws -> AgentConfigPatch {
        guard bytes.count <= maxValueSize else {
            throw AgentConfigError(message: "value of \(bytes.count) bytes exceeds \(maxValueSize / 1024) KiB "
                                   + "(a config is a few dozen bytes, like {\"interval\": 10, \"metrics\": [\"cpu\"]})")
        }
        let fields: Fields
        do {
            fields = try JSONCoding.decode(Fields.self, from: bytes)
        } catch is MalformedJSON {
            throw AgentConfigError(message: "not valid JSON (\(Self.preview(bytes)))")
        } catch {
            // Well-formed but not an object: a list, a string, null.
            throw AgentConfigError(message: "expected a JSON object like {\"interval\": 10, \"metrics\": [\"cpu\"]}, got \(Self.preview(bytes))")
        }
        var patch = AgentConfigPatch()
        if let raw = fields.interval, raw != .null {
            guard let seconds = raw.number, AgentConfig.intervalRange.contains(seconds) else {
                throw AgentConfigError(message: "\"interval\": expected a number of seconds from 1 to 86400, got \(Self.describe(raw))")
            }
            patch.interval = seconds
        }
        if let raw = fields.metrics, raw != .null {
            guard case let .strings(list) = raw else {
                throw AgentConfigError(message: "\"metrics\": expected a list of metric names like [\"cpu\", \"memory\"], got \(Self.describe(raw))")
            }
            // Duplicates folded (first-seen order), so work per round is bounded by
            // the distinct names, and those by `maxMetricNames`.
            var seen = Set<String>()
            let distinct = list.filter { seen.insert($0).inserted }
            guard distinct.count <= maxMetricNames else {
                throw AgentConfigError(message: "\"metrics\": \(distinct.count) distinct names, at most \(maxMetricNames) "
                                       + "(known: \(MetricName.allCases.map(\.rawValue).joined(separator: ", ")), disk, net)")
            }
            patch.metrics = distinct
        }
        return patch
    }

    /// The largest config value read; anything larger is refused unread.
    public static let maxValueSize = 64 * 1024
    /// Distinct metric names a config may list (there are six, and two shorthands).
    public static let maxMetricNames = 64

    /// The JSON this patch stands for (only the fields it sets).
    public func encoded() -> [UInt8] {
        (try? JSONCoding.encode(Written(interval: interval.map(WholeNumber.init), metrics: metrics)))
            ?? Array("{}".utf8)
    }

    /// A config value as read: each field keeps what it holds, whatever its type,
    /// so that `parse` can say what was wrong with it. Unknown fields are ignored;
    /// decoding fails only when the document is not an object.
    private struct Fields: Decodable {
        var interval: JSONFieldValue?
        var metrics: JSONFieldValue?
    }

    /// A config value as written: absent fields are left out.
    private struct Written: Encodable {
        var interval: WholeNumber?
        var metrics: [String]?
    }

    private static func describe(_ value: JSONFieldValue) -> String {
        switch value {
        case let .string(s): return "\"\(s.prefix(40))\""
        case let .bool(b): return b ? "true" : "false"
        case let .integer(n): return "\(n)"
        case let .unsigned(n): return "\(n)"
        case let .number(n): return "\(n)"
        case .strings, .list: return "a list"
        case .object: return "an object"
        case .null: return "null"
        }
    }

    static func preview(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        // Per scalar, as NSString replacement did: "\r\n" keeps its "\r".
        let flat = String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\n" ? " " : $0 }))
        return bytes.count > 60 ? "\"\(flat)...\"" : "\"\(flat)\""
    }
}

/// Why a config value was rejected; the message names the field and what was expected.
public struct AgentConfigError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
