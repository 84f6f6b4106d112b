import FleetModel
import JSONStream
import MonitorSettings
import SafeText

/// Renders a `FleetView` for `monitorctl status`: the table for people, the JSON
/// document for scripts. Pure: the same view gives the same text.
enum StatusReport {
    static let header = ["NODE", "STATE", "SINCE", "LAST SEEN", "INTERVAL", "CPU", "MEM", "DISK R/W", "NET IN/OUT"]

    /// The table, then the summary line, then one note per node with a config
    /// error or an unreadable value.
    static func table(_ view: FleetView, leader: LeaderRecord?, layout: KeyLayout) -> String {
        var table = TextTable(header: header)
        var notes: [String] = []
        var unrecorded = false
        for node in view.nodes {
            table.append(row(node, now: view.now, leader: leader))
            let name = shown(node.name)
            if leader != nil && node.stateSource == .computed { unrecorded = true }
            if let skew = node.clockSkew {
                notes.append("\(name): clock \(Interval.text(abs(skew))) \(skew > 0 ? "ahead of" : "behind") the server's")
            }
            if let error = node.configError { notes.append("\(name): config error: \(SafeText.escaped(error, limit: noteLimit))") }
            if let error = node.valueError { notes.append("\(name): unreadable value: \(SafeText.escaped(error, limit: noteLimit))") }
            if !NodeName.isValid(node.name) {
                notes.append("\(name): the name breaks the node-name rule (\(NodeName.expected)), no agent of ours wrote it; "
                             + forgetHint(node, layout: layout))
            }
        }
        var text = table.render() + "\n" + view.summary + "\n" + source(leader, now: view.now) + "\n"
        if unrecorded { text += "~: not recorded by the server yet; computed here from the node's own timestamps\n" }
        for note in notes { text += note + "\n" }
        return text
    }

    /// Where the states come from: the leading server, or this command.
    static func source(_ leader: LeaderRecord?, now: Double) -> String {
        guard let leader else {
            return "No monitor-serverd leads: states computed here from the nodes' own timestamps "
                + "(a node's clock skew shifts them)."
        }
        let who = leader.server.isEmpty ? "an unnamed server" : "\(SafeText.escaped(leader.server, limit: 80)) (pid \(leader.pid))"
        return "States recorded by monitor-serverd on \(who), leading for \(HumanFormat.ago(leader.since, now: now))."
    }

    /// How to remove an entry with a name no one can type: the exact key, escaped
    /// reversibly and quoted for a POSIX shell.
    static func forgetHint(_ node: FleetView.Node, layout: KeyLayout) -> String {
        guard node.isRegistered else { return "it has no registry entry (only a heartbeat, which ends with its lease)" }
        let key = SafeText.escaped(layout.registry(node.name), reversible: true)
        guard key.count <= 300 else { return "its key is too long to show here: take it from `monitorctl status -o json`" }
        return "remove it with: monitorctl node forget --key '" + key.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The longest note shown; the whole text is in `-o json`.
    static let noteLimit = 200

    /// A node name as people see it: a valid one as is; one that breaks the
    /// node-name rule escaped (spaces too, so it stays one cell), cut to a valid
    /// name's length and marked "!" (the note below the table says how to remove it).
    static func shown(_ name: String) -> String {
        if NodeName.isValid(name) { return name }
        return SafeText.cut(SafeText.escaped(name).replacingOccurrences(of: " ", with: #"\x20"#), limit: NodeName.maxLength) + "!"
    }

    static func row(_ node: FleetView.Node, now: Double, leader: LeaderRecord?) -> [String] {
        let unrecorded = leader != nil && node.stateSource == .computed
        return [
            shown(node.name),
            node.state.rawValue + (unrecorded ? "~" : "") + (node.configError != nil ? "*" : ""),
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

    /// The `-o json` document (`FleetJSON`, shared with monitor-serverd's /api/fleet).
    static func json(_ view: FleetView, leader: LeaderRecord?, staleAfterRounds: Int) -> [UInt8] {
        FleetJSON.document(view, leader: leader, staleAfterRounds: staleAfterRounds)
    }
}
