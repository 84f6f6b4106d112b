import ArgumentParser
import EtcdClient
import FleetModel
import MonitorSettings

/// `-o` of the commands that print a table (`config list`, `endpoints`).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// `-o` of `status`: `wide` adds hostname, version and config source.
enum StatusFormat: String, ExpressibleByArgument, CaseIterable {
    case table, wide, json
}

/// `-o` of the commands that print text for people, not a table (`config get`, `watch`).
enum TextFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `monitorctl status`: the fleet in one range read of the whole prefix
/// (registry, heartbeats, the server's records and the leader key at one
/// revision), never one request per node.
struct StatusCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every node: state, since when, last seen, interval and latest metrics.",
        discussion: """
        States: alive (heartbeat present), stale (heartbeat present but no new round \
        for [Server] StaleAfterRounds x interval: the agent's work loop hangs), stopped \
        (clean stop), dead (registered, no heartbeat: crashed or unreachable). While a \
        monitor-serverd leads, states, SINCE and LAST SEEN are the ones it recorded \
        (judged by its own clock, so a node's clock skew changes nothing, and shown \
        with the skew it measured); without one, or for a node it has not recorded \
        yet (marked "~"), they are computed here from the heartbeat's own timestamp. \
        A "*" after the state marks a rejected config value, explained below the table.

        -o json prints {"time", "summary", "stale_after_rounds", "leader" (null, or \
        {"server", "pid", "since", "version"}), "counts": {"alive", "stale", "stopped", \
        "dead"}, "nodes": [...]}; each node has "node", "state", "state_source" \
        ("server" or "computed"), "since", "last_seen" (unix seconds or null), \
        "clock_skew" (seconds the node's clock is ahead of the server's, null within \
        2 s), "interval", "metrics" (by metric name), "memory_total_bytes", \
        "memory_available_bytes", "config_error", "value_error", "hostname", \
        "version", "heartbeat" and "registered" (booleans).

        -o wide adds HOSTNAME, VERSION and CONFIG (where the node's config comes from: \
        "node", its own key; "default", the default key; "built-in", neither). \
        --no-headers prints the rows alone (no header, summary or notes).

        NODE... shows only those nodes (an unknown one is an error, exit 3, with the \
        closest known name); --state shows only nodes in the given states. The counts, \
        the summary and the exit code are then those of the nodes shown.

        Exit codes follow the Nagios plugin convention: 0 every node alive; 1 warning, a node \
        stale or stopped but still registered; 2 critical, a node dead; 3 unknown, the fleet \
        cannot be read (etcd unreachable), has no node at all (wrong prefix?) or has no \
        node of that name. A filter that matches no node is 0. A usage error is 2 and a \
        settings error 78, as for every command.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: table, wide or json.")
    var output: StatusFormat = .table

    @Flag(name: .long, help: "Print the table's rows only: no header, summary or notes.")
    var noHeaders = false

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Show only nodes in these states (alive, stale, stopped, dead); repeatable or comma-separated.",
        valueName: "state[,state...]"))
    var state: [String] = []

    @Argument(help: ArgumentHelp("Show only these nodes.", valueName: "node"))
    var nodes: [String] = []

    func validate() throws {
        do {
            _ = try states()
            for node in nodes { try CtlSession.checkTarget(node, allowDefault: false) }
        } catch let error as CtlError {
            throw ValidationError(error.message)
        }
    }

    /// The states of --state; nil when every state is shown.
    func states() throws -> Set<FleetView.State>? {
        let names = state.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { return nil }
        return Set(try names.map { name in
            guard let state = FleetView.State(rawValue: name) else {
                let known = FleetView.State.allCases.map(\.rawValue)
                throw CtlError.usage("--state \(name): expected a list of \(known.joined(separator: ", "))"
                                     + Suggestion.hint(for: name, among: known))
            }
            return state
        })
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let rules = FleetView.Rules(staleAfterRounds: session.settings.server.staleAfterRounds)
        let fleet: FleetView, leader: LeaderRecord?, sources: ConfigSources
        do {
            (fleet, leader, sources) = try Self.view(session, rules: rules)
        } catch let error as CtlError where error.exitCode == CtlExitCode.failure {
            // Cannot know: UNKNOWN, never "down" or "fine".
            throw CtlError(message: error.message, exitCode: CtlExitCode.Status.unknown)
        }
        let view = try filtered(fleet)
        switch output {
        case .json:
            session.output.write(bytes: StatusReport.json(view, leader: leader, staleAfterRounds: rules.staleAfterRounds))
        case .table, .wide:
            let columns = output == .wide ? StatusReport.Columns.wide(sources) : .standard
            if fleet.nodes.isEmpty {
                if !noHeaders { session.output.line("No nodes: nothing under \(layout.nodesPrefix) or \(layout.heartbeatPrefix).") }
            } else if noHeaders {
                session.output.write(StatusReport.rows(view, leader: leader, columns: columns))
            } else if view.nodes.isEmpty {
                session.output.line("No node matches (\(fleet.summary)).")
            } else {
                session.output.write(StatusReport.table(view, leader: leader, layout: layout, columns: columns,
                                                        fleetSize: view.nodes.count == fleet.nodes.count ? nil : fleet.nodes.count))
            }
        }
        if fleet.nodes.isEmpty { return CtlExitCode.Status.unknown }
        return Self.exitCode(view)
    }

    /// The nodes NODE... and --state select, in name order. An unknown node name is
    /// an error (UNKNOWN: nothing can be said about it), with the closest known one.
    private func filtered(_ fleet: FleetView) throws -> FleetView {
        let wanted = try states()
        if nodes.isEmpty && wanted == nil { return fleet }
        let known = Set(fleet.nodes.map(\.name))
        let unknown = nodes.filter { !known.contains($0) }
        if let first = unknown.first {
            let names = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw CtlError(message: "unknown node\(unknown.count == 1 ? "" : "s") \(names): no registry entry, heartbeat "
                           + "or recorded state" + Suggestion.hint(for: first, among: known),
                           exitCode: CtlExitCode.Status.unknown)
        }
        let named = Set(nodes)
        return FleetView(nodes: fleet.nodes.filter { node in
            (named.isEmpty || named.contains(node.name)) && (wanted?.contains(node.state) ?? true)
        }, now: fleet.now)
    }

    /// The Nagios-style verdict on a view (see the discussion above).
    /// An empty view (every node filtered out) is OK: nothing shown needs attention.
    static func exitCode(_ view: FleetView) -> Int32 {
        if view.count(.dead) > 0 { return CtlExitCode.Status.critical }
        if view.count(.stale) > 0 || view.nodes.contains(where: { $0.state == .stopped && $0.isRegistered }) {
            return CtlExitCode.Status.warning
        }
        return CtlExitCode.Status.ok
    }

    /// The fleet from one range read, and where each node's config comes from. A
    /// function of its own so that the raw key-values (10,000 values at fleet
    /// size) are released before rendering.
    static func view(_ session: CtlSession, rules: FleetView.Rules) throws -> (FleetView, LeaderRecord?, ConfigSources) {
        let layout = session.layout
        let all = try session.etcd("reading \(layout.prefix)/") { try $0.range(layout.prefix + "/", prefix: true) }
        let (view, leader) = FleetView.read(all.kvs.map { ($0.key, $0.value) }, layout: layout, now: session.now(), rules: rules)
        return (view, leader, ConfigSources(keys: all.kvs.lazy.map(\.key), layout: layout))
    }
}
