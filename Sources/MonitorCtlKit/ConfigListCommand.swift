import ArgumentParser
import EtcdClient
import FleetModel
import SafeText

/// `monitorctl config list`: every config key and every known node, with the
/// config each runs with and where it comes from, from one read of the prefix.
struct ConfigListCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the config keys and the nodes that use the default key.",
        discussion: """
        One row for the default key, one per node key, and one per known node without a \\
        key of its own. SOURCE says which key the node's config comes from: "node" (its \\
        own key), "default" (the default key) or "built-in" (neither). INTERVAL and \\
        METRICS are the effective (merged) config. ERROR names a value agents reject, \\
        a key of a node that never registered, or the error the node's agent reports.

        -o json prints {"nodes": [{"node" ("default" for the default key), "source", \\
        "key" (the key of the node's own config, or null), "mod_revision", \\
        "interval", "metrics", "error", "registered"}]}.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: table or json.")
    var output: OutputFormat = .table

    @Flag(name: .long, help: "Print the table's rows only, without the header.")
    var noHeaders = false

    static let header = ["NODE", "SOURCE", "INTERVAL", "METRICS", "ERROR"]

    /// One row of the listing.
    struct Row {
        var node: String
        var source: String
        var key: StoredConfig?
        var effective: AgentConfig
        var error: String?
        var registered: Bool
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let rows = try Self.rows(session)
        switch output {
        case .json:
            session.output.write(CtlJSON.document(["nodes": rows.map { row -> [String: Any] in
                row.effective.json.merging([
                    "node": row.node, "source": row.source, "key": CtlJSON.orNull(row.key?.key),
                    "mod_revision": CtlJSON.orNull(row.key?.kv?.modRevision), "error": CtlJSON.orNull(row.error),
                    "registered": row.registered,
                ]) { old, _ in old }
            }]))
        case .table:
            var table = TextTable(header: Self.header)
            for row in rows {
                let metrics = row.effective.metrics == AgentConfig.default.metrics ? "all" : row.effective.metrics.joined(separator: ",")
                table.append([StatusReport.shown(row.node), row.source, Interval.text(row.effective.interval),
                              StatusReport.cell(metrics, limit: 80),
                              row.error.map { SafeText.escaped($0, limit: StatusReport.noteLimit) } ?? HumanFormat.none])
            }
            session.output.write(table.render(headers: !noHeaders))
        }
        return CtlExitCode.success
    }

    /// The default key first, then every node by name.
    static func rows(_ session: CtlSession) throws -> [Row] {
        let layout = session.layout
        let all = try session.etcd("reading \(layout.prefix)/") { try $0.range(layout.prefix + "/", prefix: true) }
        let (view, _) = FleetView.read(all.kvs.map { ($0.key, $0.value) }, layout: layout, now: session.now())
        var keys: [String: StoredConfig] = [:]
        for kv in all.kvs where kv.key.hasPrefix(layout.configPrefix) && kv.key.count > layout.configPrefix.count {
            keys[String(kv.key.dropFirst(layout.configPrefix.count))] = StoredConfig(key: kv.key, kv: kv)
        }
        let defaultKey = keys.removeValue(forKey: "default")
        let known = Set(view.nodes.map(\.name))
        let fallback = defaultKey == nil ? "built-in" : "default"
        var rows = [Row(node: "default", source: fallback, key: defaultKey,
                        effective: ConfigValue.effective(defaultValue: defaultKey?.kv?.value, nodeValue: nil),
                        error: defaultKey?.error.map { "invalid, ignored by agents: " + $0 }, registered: false)]
        for name in known.union(keys.keys).sorted() {
            let own = keys[name]
            var errors: [String] = []
            if let error = own?.error { errors.append("invalid, ignored by agents: " + error) }
            if !known.contains(name) {
                errors.append("node never registered" + Suggestion.hint(for: name, among: known))
            }
            if let error = view[name]?.configError { errors.append("agent reports: " + error) }
            rows.append(Row(node: name, source: own == nil ? fallback : "node", key: own,
                            effective: ConfigValue.effective(defaultValue: defaultKey?.kv?.value, nodeValue: own?.kv?.value),
                            error: errors.isEmpty ? nil : errors.joined(separator: "; "),
                            registered: view[name]?.isRegistered ?? false))
        }
        return rows
    }
}
