import FleetModel
import Foundation

/// Renders a `FleetView` for `monitorctl status`: the table for people, the JSON
/// document for scripts. Pure: the same view gives the same text.
enum StatusReport {
    static let header = ["NODE", "STATE", "SINCE", "LAST SEEN", "INTERVAL", "CPU", "MEM", "DISK R/W", "NET IN/OUT"]

    /// The table, then the summary line, then one note per node with a config
    /// error or an unreadable value.
    static func table(_ view: FleetView) -> String {
        var table = TextTable(header: header)
        var notes: [String] = []
        for node in view.nodes {
            table.append(row(node, now: view.now))
            if let error = node.configError { notes.append("\(node.name): config error: \(error)") }
            if let error = node.valueError { notes.append("\(node.name): unreadable value: \(error)") }
        }
        var text = table.render() + "\n" + view.summary + "\n"
        for note in notes { text += note + "\n" }
        return text
    }

    static func row(_ node: FleetView.Node, now: Double) -> [String] {
        return [
            node.name,
            node.state.rawValue + (node.configError != nil ? "*" : ""),
            HumanFormat.ago(node.since, now: now),
            HumanFormat.ago(node.lastSeen, now: now),
            HumanFormat.interval(node.interval),
            HumanFormat.percent(node[.cpu]),
            memory(node),
            pair(node[.diskRead], node[.diskWrite]),
            pair(node[.netIn], node[.netOut]),
        ]
    }

    /// "43.0% of 15.6 GiB", or just the percentage when the total is unknown.
    private static func memory(_ node: FleetView.Node) -> String {
        guard let percent = node[.memory] else { return HumanFormat.none }
        guard let total = node.memoryTotalBytes, total > 0 else { return HumanFormat.percent(percent) }
        return HumanFormat.percent(percent) + " of " + HumanFormat.bytes(Double(total))
    }

    private static func pair(_ a: Double?, _ b: Double?) -> String {
        if a == nil && b == nil { return HumanFormat.none }
        return HumanFormat.rate(a) + " / " + HumanFormat.rate(b)
    }

    /// The `-o json` document. Field names are part of the interface (documented
    /// in `monitorctl status --help`); every node field is always present, null
    /// when unknown.
    static func json(_ view: FleetView, staleAfterRounds: Int) -> String {
        var counts: [String: Any] = [:]
        for state in FleetView.State.allCases { counts[state.rawValue] = view.count(state) }
        let document: [String: Any] = [
            "time": view.now,
            "summary": view.summary,
            "stale_after_rounds": staleAfterRounds,
            "counts": counts,
            "nodes": view.nodes.map(object),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func object(_ node: FleetView.Node) -> [String: Any] {
        func orNull(_ value: Any?) -> Any { value ?? NSNull() }
        return [
            "node": node.name,
            "state": node.state.rawValue,
            "since": orNull(node.since),
            "last_seen": orNull(node.lastSeen),
            "interval": orNull(node.interval),
            "metrics": node.metrics,
            "memory_total_bytes": orNull(node.memoryTotalBytes),
            "memory_available_bytes": orNull(node.memoryAvailableBytes),
            "config_error": orNull(node.configError),
            "value_error": orNull(node.valueError),
            "hostname": orNull(node.hostname),
            "version": orNull(node.version),
            "heartbeat": node.hasHeartbeat,
            "registered": node.isRegistered,
        ]
    }
}
