import ArgumentParser
import EtcdClient
import FleetModel
import MonitorSettings

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// `monitorctl status`: the fleet in two range reads (registry, heartbeats),
/// never one request per node.
struct StatusCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every node: state, since when, last seen, interval and latest metrics.",
        discussion: """
        States: alive (heartbeat present), stale (heartbeat present but no new round \
        for [Server] StaleAfterRounds x interval: the agent's work loop hangs), stopped \
        (clean stop), dead (registered, no heartbeat: crashed or unreachable). Ages use \
        the heartbeat's own timestamp, so a clock skew between a node and this machine \
        shifts them (and can make a node look stale). A "*" after the state marks a \
        rejected config value, explained below the table.

        -o json prints {"time", "summary", "stale_after_rounds", "counts": {"alive", \
        "stale", "stopped", "dead"}, "nodes": [...]}; each node has "node", "state", \
        "since", "last_seen" (unix seconds or null), "interval", "metrics" (by metric \
        name), "memory_total_bytes", "memory_available_bytes", "config_error", \
        "value_error", "hostname", "version", "heartbeat" and "registered" (booleans).

        Exit code 1 when any node is dead or stale (for cron and alerting), 0 otherwise.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: table or json.")
    var output: OutputFormat = .table

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let rules = FleetView.Rules(staleAfterRounds: session.settings.server.staleAfterRounds)
        let view = try Self.view(session, rules: rules)
        switch output {
        case .json:
            session.output.write(bytes: StatusReport.json(view, staleAfterRounds: rules.staleAfterRounds))
        case .table:
            if view.nodes.isEmpty {
                session.output.line("No nodes: nothing under \(layout.nodesPrefix) or \(layout.heartbeatPrefix).")
            } else {
                session.output.write(StatusReport.table(view, layout: layout))
            }
        }
        return view.needsAttention ? CtlExitCode.failure : CtlExitCode.success
    }

    /// The fleet from two range reads. A function of its own so that the raw
    /// key-values (10,000 values at fleet size) are released before rendering.
    static func view(_ session: CtlSession, rules: FleetView.Rules) throws -> FleetView {
        let layout = session.layout
        // Registry first: a node that starts between the two reads then shows
        // alive (its heartbeat is read second), never falsely dead.
        let registry = try session.etcd("reading \(layout.nodesPrefix)") {
            try $0.range(layout.nodesPrefix, prefix: true)
        }
        let heartbeats = try session.etcd("reading \(layout.heartbeatPrefix)") {
            try $0.range(layout.heartbeatPrefix, prefix: true)
        }
        return FleetView(heartbeatKVs: heartbeats.kvs.map { ($0.key, $0.value) },
                         registryKVs: registry.kvs.map { ($0.key, $0.value) }, layout: layout,
                         now: session.now(), rules: rules)
    }
}
