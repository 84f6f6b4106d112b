import FleetModel
import MonitorSettings
import Foundation

/// Pure helpers for config values (`{"interval": N, "metrics": [...]}`): command-line
/// assignments, metric-name checks, field merging, and the effective config.
enum ConfigValue {
    /// "cpu, memory, disk read, disk write, net in, net out (shorthands: disk, net)"
    static var knownNames: String {
        MetricName.allCases.map(\.rawValue).joined(separator: ", ")
            + " (shorthands: " + MetricName.shorthands.keys.sorted().joined(separator: ", ") + ")"
    }

    static let assignmentHelp = "interval=SECONDS (1 to 86400) or metrics=NAME[,NAME...]"

    /// A field to remove: `metrics=` with an empty value resets the field to its
    /// default, as `Key=` does in the settings file (the node then takes the
    /// default key's value, else the built-in one).
    static let reset = NSNull()

    /// Parses `interval=2 metrics=cpu,memory` into the JSON fields to set. Every
    /// metric name must be known; names are trimmed; empty items are dropped.
    /// An empty value (`interval=`, `metrics=`) is `reset`: the field is removed.
    static func parseAssignments(_ arguments: [String]) throws -> [String: Any] {
        var fields: [String: Any] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw CtlError.usage("\"\(argument)\": expected \(assignmentHelp)")
            }
            let name = argument[..<equals].trimmingCharacters(in: .whitespaces)
            let text = argument[argument.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard fields[name] == nil else { throw CtlError.usage("\(name) given twice") }
            if text.isEmpty && ["interval", "metrics"].contains(name) {
                fields[name] = reset
                continue
            }
            switch name {
            case "interval":
                guard let seconds = DecimalNumber.parse(text), AgentConfig.intervalRange.contains(seconds) else {
                    throw CtlError.usage("interval=\(text): expected a number of seconds from 1 to 86400")
                }
                fields[name] = jsonNumber(seconds)
            case "metrics":
                let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                try checkMetricNames(names)
                fields[name] = names
            default:
                throw CtlError.usage("unknown field \"\(name)\": expected \(assignmentHelp)")
            }
        }
        return fields
    }

    /// Rejects names that are neither a metric nor a shorthand, listing the known ones.
    static func checkMetricNames(_ names: [String]) throws {
        let unknown = MetricSelection(names: names).unknown
        guard unknown.isEmpty else {
            let list = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
            throw CtlError.usage("unknown metric\(unknown.count == 1 ? "" : "s") \(list); known names: \(knownNames)")
        }
    }

    /// The stored value as a JSON object, or nil when it is not one.
    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) as? [String: Any]
    }

    /// `fields` merged into `existing` (other fields, including ones this version
    /// does not know, are kept), validated as a whole. Throws a usage error naming
    /// the problem when the result would be rejected by agents.
    static func merge(existing: [String: Any], fields: [String: Any]) throws -> [UInt8] {
        let merged = applying(fields, to: existing)
        let bytes = encode(merged)
        do {
            _ = try AgentConfigPatch.parse(bytes)
        } catch {
            throw CtlError.usage("the merged value \(String(decoding: bytes, as: UTF8.self)) would be rejected: \(error)")
        }
        return bytes
    }

    /// `existing` with `fields` set, and the `reset` ones removed.
    static func applying(_ fields: [String: Any], to existing: [String: Any]) -> [String: Any] {
        existing.merging(fields) { _, new in new }.filter { !($0.value is NSNull) }
    }

    /// Checks a whole value as agents will, plus metric names: what `config edit` accepts.
    static func validate(_ bytes: [UInt8]) throws -> AgentConfigPatch {
        let patch: AgentConfigPatch
        do {
            patch = try AgentConfigPatch.parse(bytes)
        } catch {
            throw CtlError.usage("invalid value: \(error)")
        }
        if let metrics = patch.metrics {
            do { try checkMetricNames(metrics) } catch let error as CtlError {
                throw CtlError.usage("invalid value: \"metrics\": \(error.message)")
            }
        }
        return patch
    }

    static func encode(_ object: [String: Any], pretty: Bool = false) -> [UInt8] {
        let options: JSONSerialization.WritingOptions = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data("{}".utf8)
        return [UInt8](data)
    }

    /// Same content: compared by canonical encoding, so a number parsed from JSON
    /// and the same number typed on the command line compare equal.
    static func isSame(_ a: [String: Any], _ b: [String: Any]) -> Bool {
        encode(a) == encode(b)
    }

    /// What a node runs with: built-in defaults, then the default key, then the
    /// node's key, field by field. An unreadable value is skipped (agents keep
    /// their last good value, which monitorctl cannot know).
    static func effective(defaultValue: [UInt8]?, nodeValue: [UInt8]?) -> AgentConfig {
        var config = AgentConfig.default
        for value in [defaultValue, nodeValue] {
            if let value, let patch = try? AgentConfigPatch.parse(value) { config = config.applying(patch) }
        }
        return config
    }

    /// Whole numbers as integers, like the lab's `{"interval": 10}`.
    static func jsonNumber(_ value: Double) -> Any {
        value == value.rounded() ? Int64(value) as Any : value as Any
    }
}
