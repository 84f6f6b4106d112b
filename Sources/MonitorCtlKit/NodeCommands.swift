import ArgumentParser
import EtcdClient
import SafeText

/// `monitorctl node forget NODE`: removes a node's registry entry and the
/// server's record of it, so a node retired for good stops showing as dead. `--registry-key KEY` removes an entry by its
/// exact key, for names no agent of ours writes (they break the node-name rule,
/// so they cannot be typed as NODE).
struct NodeForgetCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove a node's registry entry and recorded state (<prefix>/nodes/<node>, <prefix>/state/<node>).",
        discussion: """
        Refused while the node's heartbeat is present (it is running) unless --force; \
        a running agent registers itself again at its next start. The node's config \
        key is kept. A node without registry entry (a lab agent) is known by its \
        recorded state alone once its heartbeat is gone: forget removes that. For an entry whose name breaks the node-name rule, `monitorctl \
        status` prints the command to use: --registry-key with the key as shown there \
        (\\n, \\x1b, \\u{202e} and \\\\ stand for the characters they escape).
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The node name.", valueName: "node"))
    var node: String?

    @Option(name: .customLong("registry-key"), help: ArgumentHelp("Remove this exact registry key instead (escaped as `status` shows it).",
                                            valueName: "key"))
    var key: String?

    @Flag(name: .long, help: "Remove the entry even though the node's heartbeat is present.")
    var force = false

    func validate() throws {
        switch (node, key) {
        case let (node?, nil):
            try CtlSession.validate(target: node, allowDefault: false)
        case (nil, let key?):
            guard SafeText.unescaped(key) != nil else {
                throw ValidationError("--registry-key \(SafeText.escaped(key, limit: 80)): a backslash starts no escape (\\\\, \\n, \\r, \\t, \\xHH, \\u{H...})")
            }
        default:
            throw ValidationError("expected a node name or --registry-key KEY (one of them)")
        }
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let key: String, node: String
        if let escaped = self.key {
            key = SafeText.unescaped(escaped) ?? escaped
            guard let name = layout.node(fromRegistryKey: key) else {
                throw CtlError.usage("--registry-key \(SafeText.escaped(escaped, limit: 80)) is not a registry key (\(layout.nodesPrefix)/NAME)")
            }
            node = name
        } else {
            node = self.node ?? ""
            key = layout.registry(node)
        }
        let shown = StatusReport.shown(node)
        let stateKey = layout.state(node)
        let registered = try session.get(key) != nil, recorded = try session.get(stateKey) != nil
        guard registered || recorded else {
            throw CtlError.runtime("unknown node \"\(shown)\": no registry entry at \(SafeText.escaped(key, limit: 120)) "
                                   + "and no recorded state at \(SafeText.escaped(stateKey, limit: 120))")
        }
        let heartbeat = try session.get(layout.heartbeat(node))
        if heartbeat != nil && !force {
            throw CtlError.runtime("node \(shown) is alive (\(SafeText.escaped(layout.heartbeat(node), limit: 120)) is present); "
                                   + "stop its agent first, or use --force")
        }
        // The record first: a registry entry deleted alone would leave the node
        // listed by its record.
        _ = try session.etcd("deleting the recorded state") { try $0.delete(stateKey) }
        let deleted = registered ? try session.etcd("deleting the registry entry") { try $0.delete(key) } : 1
        if deleted == 0 {
            // Removed by someone else between our read and our delete: same outcome.
            session.output.line("\(shown): \(SafeText.escaped(key, limit: 120)) was already gone")
        } else {
            session.output.line("forgot \(shown) (deleted \(SafeText.escaped(registered ? key : stateKey, limit: 120)))")
        }
        if heartbeat != nil {
            session.output.errorLine("monitorctl: note: \(shown)'s heartbeat is still present; its agent registers again when it restarts")
        }
        return CtlExitCode.success
    }
}
