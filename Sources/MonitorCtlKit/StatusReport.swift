import FleetModel
import JSONStream
import MonitorSettings
import SafeText

/// Renders a `FleetView` for `monitorctl status`: the table for people, the JSON
/// document for scripts. Pure: the same view gives the same text.
enum StatusReport {
    static let header = ["NODE", "STATE", "SINCE", "LAST SEEN", "INTERVAL", "CPU", "MEM", "DISK R/W", "NET IN/OUT"]

    /// The table's columns: the standard ones, or with `-o wide` also the
    /// hostname, the agent's version, its machine and boot (the IDs' first 12
    /// and 8 hex digits, as `hostnamectl` and `journalctl --list-boots` show
    /// them: enough to tell two machines or two boots apart) and where the
    /// node's config comes from.
    enum Columns {
        case standard
        case wide(ConfigSources)

        var header: [String] {
            switch self {
            case .standard: return StatusReport.header
            case .wide: return StatusReport.header + ["HOSTNAME", "VERSION", "MACHINE", "BOOT", "CONFIG"]
            }
        }

        func row(_ node: FleetView.Node, now: Double, leader: LeaderRecord?) -> [String] {
            let row = StatusReport.row(node, now: now, leader: leader)
            guard case let .wide(sources) = self else { return row }
            return row + [StatusReport.cell(node.hostname, limit: 64), StatusReport.cell(node.version, limit: 32),
                          StatusReport.cell(node.machineID.map { String($0.prefix(12)) }, limit: 12),
                          StatusReport.cell(node.bootID.map { String($0.prefix(8)) }, limit: 8), sources.source(of: node.name)]
        }
    }

    /// The table's rows alone (`--no-headers`), for scripts that read columns.
    static func rows(_ view: FleetView, leader: LeaderRecord?, columns: Columns = .standard) -> String {
        var table = TextTable(header: columns.header)
        for node in view.nodes { table.append(columns.row(node, now: view.now, leader: leader)) }
        return table.render(headers: false)
    }

    /// The table, then the summary line, then one note per node with a config
    /// error or an unreadable value. `fleetSize`: how many nodes the fleet has
    /// when a filter shows fewer.
    static func table(_ view: FleetView, leader: LeaderRecord?, layout: KeyLayout, columns: Columns = .standard,
                      fleetSize: Int? = nil) -> String {
        var table = TextTable(header: columns.header)
        var notes: [String] = []
        var unrecorded = false
        for node in view.nodes {
            table.append(columns.row(node, now: view.now, leader: leader))
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
        let summary = view.summary + (fleetSize.map { " shown of \($0) in the fleet" } ?? "")
        var text = table.render() + "\n" + summary + "\n" + source(leader, now: view.now) + "\n"
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
        return "States recorded by monitor-serverd on \(who), leading since \(HumanFormat.ago(leader.since, now: now))."
    }

    /// How to remove an entry with a name no one can type: the exact key, escaped
    /// reversibly and quoted for a POSIX shell.
    static func forgetHint(_ node: FleetView.Node, layout: KeyLayout) -> String {
        guard node.isRegistered else { return "it has no registry entry (only a heartbeat, which ends with its lease)" }
        let key = SafeText.escaped(layout.registry(node.name), reversible: true)
        guard key.count <= 300 else { return "its key is too long to show here: take it from `monitorctl status -o json`" }
        return "remove it with: monitorctl node forget --registry-key '" + key.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The longest note shown; the whole text is in `-o json`.
    static let noteLimit = 200

    /// A node name as people see it: a valid one as is; one that breaks the
    /// node-name rule escaped (spaces too, so it stays one cell), cut to a valid
    /// name's length and marked "!" (the note below the table says how to remove it).
    static func shown(_ name: String) -> String {
        if NodeName.isValid(name) { return name }
        return cell(name, limit: NodeName.maxLength) + "!"
    }

    /// Outside text as one table cell: escaped (spaces too, so the columns stay
    /// aligned) and cut; "-" when unknown.
    static func cell(_ text: String?, limit: Int) -> String {
        guard let text else { return HumanFormat.none }
        return SafeText.cut(SafeText.escaped(text).replacingOccurrences(of: " ", with: #"\x20"#), limit: limit)
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
