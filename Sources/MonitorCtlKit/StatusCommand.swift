import ArgumentParser
import EtcdClient
import FleetModel
import MonitorSettings

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
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

        Exit codes follow the Nagios plugin convention: 0 every node alive; 1 warning, a node \
        stale or stopped but still registered; 2 critical, a node dead; 3 unknown, the fleet \
        cannot be read (etcd unreachable) or has no node at all (wrong prefix?). A usage \
        error is 2 and a settings error 78, as for every command.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: table or json.")
    var output: OutputFormat = .table

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let rules = FleetView.Rules(staleAfterRounds: session.settings.server.staleAfterRounds)
        let view: FleetView, leader: LeaderRecord?
        do {
            (view, leader) = try Self.view(session, rules: rules)
        } catch let error as CtlError where error.exitCode == CtlExitCode.failure {
            // Cannot know: UNKNOWN, never "down" or "fine".
            throw CtlError(message: error.message, exitCode: CtlExitCode.Status.unknown)
        }
        switch output {
        case .json:
            session.output.write(bytes: StatusReport.json(view, leader: leader, staleAfterRounds: rules.staleAfterRounds))
        case .table:
            if view.nodes.isEmpty {
                session.output.line("No nodes: nothing under \(layout.nodesPrefix) or \(layout.heartbeatPrefix).")
            } else {
                session.output.write(StatusReport.table(view, leader: leader, layout: layout))
            }
        }
        return Self.exitCode(view)
    }

    /// The Nagios-style verdict on a view (see the discussion above).
    static func exitCode(_ view: FleetView) -> Int32 {
        if view.nodes.isEmpty { return CtlExitCode.Status.unknown }
        if view.count(.dead) > 0 { return CtlExitCode.Status.critical }
        if view.count(.stale) > 0 || view.nodes.contains(where: { $0.state == .stopped && $0.isRegistered }) {
            return CtlExitCode.Status.warning
        }
        return CtlExitCode.Status.ok
    }

    /// The fleet from one range read. A function of its own so that the raw
    /// key-values (10,000 values at fleet size) are released before rendering.
    static func view(_ session: CtlSession, rules: FleetView.Rules) throws -> (FleetView, LeaderRecord?) {
        let layout = session.layout
        let all = try session.etcd("reading \(layout.prefix)/") { try $0.range(layout.prefix + "/", prefix: true) }
        return FleetView.read(all.kvs.map { ($0.key, $0.value) }, layout: layout, now: session.now(), rules: rules)
    }
}
