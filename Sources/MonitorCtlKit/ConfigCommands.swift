import ArgumentParser
import EtcdClient
import FleetModel
import Foundation
import SafeText

/// NODE or "default", checked at parse time.
private func checkTarget(_ target: String) throws {
    do { try CtlSession.checkTarget(target, allowDefault: true) } catch let error as CtlError {
        throw ValidationError(error.message)
    }
}

/// Describes one stored key for `config get`.
private func describe(_ key: String, _ kv: KeyValue?) -> String {
    guard let kv else { return "# \(key): not set\n" }
    var text = "# \(key) (mod revision \(kv.modRevision))"
    do {
        let patch = try AgentConfigPatch.parse(kv.value)
        let unknown = MetricSelection(names: patch.metrics ?? []).unknown
        if !unknown.isEmpty {
            text += ": unknown metric names, ignored by agents: "
                + SafeText.escaped(unknown.map { "\"\($0)\"" }.joined(separator: ", "), limit: 200)
        }
    } catch {
        text += ": INVALID, agents ignore it and keep their last good value: \(SafeText.escaped("\(error)"))"
    }
    // The stored text, line by line, with anything a terminal would act on escaped.
    let lines = kv.valueString.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escaped(String($0)) }
    let value = lines.joined(separator: "\n")
    return text + "\n" + value + (value.hasSuffix("\n") ? "" : "\n")
}

/// `monitorctl config get NODE|default`
struct ConfigGetCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the stored config of a node (or of the default key) and the effective merged config.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A node name, or \"default\".", valueName: "node"))
    var target: String

    func validate() throws { try checkTarget(target) }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let defaultKV = try session.get(layout.defaultConfig)
        var text = ""
        let effective: AgentConfig
        if target == "default" {
            text += describe(layout.defaultConfig, defaultKV)
            effective = ConfigValue.effective(defaultValue: defaultKV?.value, nodeValue: nil)
            text += "# effective for nodes without their own key (built-in defaults, then \(layout.defaultConfig))\n"
        } else {
            let nodeKV = try session.get(layout.config(target))
            text += describe(layout.config(target), nodeKV)
            text += describe(layout.defaultConfig, defaultKV)
            effective = ConfigValue.effective(defaultValue: defaultKV?.value, nodeValue: nodeKV?.value)
            text += "# effective for \(target) (built-in defaults, then \(layout.defaultConfig), then \(layout.config(target)))\n"
        }
        text += String(decoding: AgentConfigPatch(interval: effective.interval, metrics: effective.metrics).encoded(),
                       as: UTF8.self) + "\n"
        session.output.write(text)
        return CtlExitCode.success
    }
}

/// `monitorctl config set NODE|default interval=2 metrics=cpu,memory`
struct ConfigSetCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set fields of a node's config key (or of the default key), keeping the others.",
        discussion: """
        Only the fields given are written, merged into the key's current value with a \
        compare-and-swap, so a concurrent change is never lost (retried up to \
        \(ConfigSetCommand.maxAttempts) times). Metric names: \(ConfigValue.knownNames).
        Example: monitorctl config set worker1 interval=2 metrics=cpu,memory
        """)

    static let maxAttempts = 5

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A node name, or \"default\".", valueName: "node"))
    var target: String

    @Argument(help: ArgumentHelp("interval=SECONDS or metrics=NAME[,NAME...]", valueName: "field=value"))
    var assignments: [String] = []

    func validate() throws {
        try checkTarget(target)
        guard !assignments.isEmpty else { throw ValidationError("expected at least one \(ConfigValue.assignmentHelp)") }
        do { _ = try ConfigValue.parseAssignments(assignments) } catch let error as CtlError {
            throw ValidationError(error.message)
        }
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let fields = try ConfigValue.parseAssignments(assignments)
        let layout = session.layout
        let key = target == "default" ? layout.defaultConfig : layout.config(target)
        for attempt in 1...Self.maxAttempts {
            let current = try session.get(key)
            var existing: [String: Any] = [:]
            if let current {
                if let object = ConfigValue.object(current.value) {
                    existing = object
                } else {
                    session.output.errorLine("monitorctl: replacing the unreadable value of \(key): \(current.valueString.prefix(60))")
                }
            }
            let merged = try ConfigValue.merge(existing: existing, fields: fields)
            if let current, let object = ConfigValue.object(current.value),
               ConfigValue.isSame(object, existing.merging(fields) { _, new in new }) {
                session.output.line("\(key) unchanged: \(SafeText.escaped(current.valueString))")
                return CtlExitCode.success
            }
            session.beforeWrite?(attempt)
            let written = try session.etcd("writing \(key)") {
                try $0.putIf(key, value: merged, modRevision: current?.modRevision ?? 0)
            }
            if written {
                try report(session, key: key, old: current?.value, new: merged)
                return CtlExitCode.success
            }
            // Someone else changed the key since we read it: merge into their value.
        }
        throw CtlError.runtime("\(key) kept changing during \(Self.maxAttempts) attempts; nothing written")
    }

    private func report(_ session: CtlSession, key: String, old: [UInt8]?, new: [UInt8]) throws {
        session.output.line("\(key): \(String(decoding: new, as: UTF8.self))")
        if target == "default" {
            let before = ConfigValue.effective(defaultValue: old, nodeValue: nil)
            let after = ConfigValue.effective(defaultValue: new, nodeValue: nil)
            session.output.line("nodes without their own key: \(after.describeChange(from: before))")
        } else {
            let defaultValue = try session.get(session.layout.defaultConfig)?.value
            let before = ConfigValue.effective(defaultValue: defaultValue, nodeValue: old)
            let after = ConfigValue.effective(defaultValue: defaultValue, nodeValue: new)
            session.output.line("\(target): \(after.describeChange(from: before))")
        }
    }
}
