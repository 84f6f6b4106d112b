import ArgumentParser
import EtcdClient
import FleetModel
import SafeText

/// `monitorctl config delete NODE|default`: removes a config key with a
/// compare-and-swap on the mod revision read, and says what the node falls back to.
struct ConfigDeleteCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a node's config key (the node falls back to the default key) or the default key.",
        discussion: """
        The key is deleted only if nobody changed it since it was read (compare-and-swap \\
        on its mod revision); otherwise nothing is deleted (exit 1). The output says what \\
        the node's config becomes: the default key's, or the built-in defaults \\
        (\\(AgentConfig.default.summary)) when there is none. Deleting "default" makes \\
        every node without a key of its own fall back to the built-in defaults. A key \\
        of a node that never registered (a typo) can be deleted like any other.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A node name, or \"default\".", valueName: "node"))
    var target: String

    func validate() throws { try CtlSession.validate(target: target, allowDefault: true) }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let key = target == "default" ? layout.defaultConfig : layout.config(target)
        guard let current = try session.get(key) else {
            let existing = try session.etcd("reading \(layout.configPrefix)") { try $0.range(layout.configPrefix, prefix: true) }
            let names = existing.kvs.map { String($0.key.dropFirst(layout.configPrefix.count)) }
            throw CtlError.runtime("no config key \(key) to delete" + Suggestion.hint(for: target, among: names))
        }
        session.beforeWrite?(1)
        let deleted = try session.etcd("deleting \(key)") { try $0.deleteIf(key, modRevision: current.modRevision) }
        guard deleted else {
            let now = (try? session.get(key))?.modRevision
            throw CtlError.runtime("\(key) changed since it was read (mod revision \(current.modRevision) -> "
                                   + (now.map(String.init) ?? "deleted") + "); nothing deleted; check it with config get and try again")
        }
        session.output.line("deleted \(key) (mod revision \(current.modRevision)): \(SafeText.escaped(current.valueString, limit: 200))")
        if target == "default" {
            let before = ConfigValue.effective(defaultValue: current.value, nodeValue: nil)
            session.output.line("nodes without their own key now fall back to the built-in defaults: "
                                + AgentConfig.default.describeChange(from: before))
        } else {
            let defaultValue = try session.get(layout.defaultConfig)?.value
            let before = ConfigValue.effective(defaultValue: defaultValue, nodeValue: current.value)
            let after = ConfigValue.effective(defaultValue: defaultValue, nodeValue: nil)
            let fallback = defaultValue == nil ? "the built-in defaults" : layout.defaultConfig
            session.output.line("\(target) now falls back to \(fallback): \(after.describeChange(from: before))")
        }
        return CtlExitCode.success
    }
}
