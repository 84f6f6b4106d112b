import ArgumentParser
import EtcdClient

/// `monitorctl node forget NODE`: removes a node's registry entry, so a node
/// retired for good stops showing as dead.
struct NodeForgetCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove a node's registry entry (<prefix>/nodes/<node>).",
        discussion: """
        Refused while the node's heartbeat is present (it is running) unless --force; \
        a running agent registers itself again at its next start. The node's config \
        key is kept.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The node name.", valueName: "node"))
    var node: String

    @Flag(name: .long, help: "Remove the entry even though the node's heartbeat is present.")
    var force = false

    func validate() throws {
        do { try CtlSession.checkTarget(node, allowDefault: false) } catch let error as CtlError {
            throw ValidationError(error.message)
        }
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let key = layout.registry(node)
        guard try session.get(key) != nil else {
            throw CtlError.runtime("unknown node \"\(node)\": no registry entry at \(key)")
        }
        let heartbeat = try session.get(layout.heartbeat(node))
        if heartbeat != nil && !force {
            throw CtlError.runtime("node \(node) is alive (\(layout.heartbeat(node)) is present); "
                                   + "stop its agent first, or use --force")
        }
        let deleted = try session.etcd("deleting \(key)") { try $0.delete(key) }
        if deleted == 0 {
            // Removed by someone else between our read and our delete: same outcome.
            session.output.line("\(node): \(key) was already gone")
        } else {
            session.output.line("forgot \(node) (deleted \(key))")
        }
        if heartbeat != nil {
            session.output.errorLine("monitorctl: note: \(node)'s heartbeat is still present; its agent registers again when it restarts")
        }
        return CtlExitCode.success
    }
}
