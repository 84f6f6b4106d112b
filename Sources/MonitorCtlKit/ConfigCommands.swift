import ArgumentParser
import EtcdClient
import FleetModel
import Foundation
import SafeText

/// One stored config key as `config get` judges it: present or not, and why
/// agents would ignore it or some of its metric names.
struct StoredConfig {
    let key: String
    let kv: KeyValue?
    /// Why agents reject the value (they keep their last good one); nil when valid.
    let error: String?
    /// Metric names agents ignore.
    let unknownMetrics: [String]

    init(key: String, kv: KeyValue?) {
        (self.key, self.kv) = (key, kv)
        var error: String?, unknown: [String] = []
        if let kv {
            do {
                unknown = MetricSelection(names: try AgentConfigPatch.parse(kv.value).metrics ?? []).unknown
            } catch let failure {
                error = "\(failure)"
            }
        }
        (self.error, self.unknownMetrics) = (error, unknown)
    }

    /// "# key (mod revision N)[: problem]" and the stored text, line by line, with
    /// anything a terminal would act on escaped.
    var text: String {
        guard let kv else { return "# \(key): not set\n" }
        var text = "# \(key) (mod revision \(kv.modRevision))"
        if let error {
            text += ": INVALID, agents ignore it and keep their last good value: \(SafeText.escaped(error))"
        } else if !unknownMetrics.isEmpty {
            text += ": unknown metric names, ignored by agents: "
                + SafeText.escaped(unknownMetrics.map { "\"\($0)\"" }.joined(separator: ", "), limit: 200)
        }
        let lines = kv.valueString.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escaped(String($0)) }
        let value = lines.joined(separator: "\n")
        return text + "\n" + value + (value.hasSuffix("\n") ? "" : "\n")
    }

    /// {"key", "exists", "mod_revision", "value" (the stored JSON, null when absent
    /// or not JSON), "text" (the stored bytes as text), "error", "unknown_metrics"}.
    var json: [String: Any] {
        [
            "key": key,
            "exists": kv != nil,
            "mod_revision": CtlJSON.orNull(kv?.modRevision),
            "value": CtlJSON.orNull(kv.flatMap { try? JSONSerialization.jsonObject(with: Data($0.value), options: [.fragmentsAllowed]) }),
            "text": CtlJSON.orNull(kv?.valueString),
            "error": CtlJSON.orNull(error),
            "unknown_metrics": unknownMetrics,
        ]
    }
}

extension AgentConfig {
    /// {"interval", "metrics"}.
    var json: [String: Any] { ["interval": ConfigValue.jsonNumber(interval), "metrics": metrics] }
}

/// `monitorctl config get NODE|default`
struct ConfigGetCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the stored config of a node (or of the default key) and the effective merged config.",
        discussion: """
        -o json prints one document: {"node" (the name given, or "default"), "key" (the \
        node's key, or the default key for "default"), "default" (the default key; null \
        for "default"), "effective": {"interval", "metrics"}}; each key is {"key", \
        "exists", "mod_revision", "value" (the stored JSON), "text" (as stored), \
        "error" (why agents reject it, or null), "unknown_metrics"}.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
    var output: TextFormat = .text

    @Argument(help: ArgumentHelp("A node name, or \"default\".", valueName: "node"))
    var target: String

    func validate() throws { try CtlSession.validate(target: target, allowDefault: true) }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let defaultConfig = StoredConfig(key: layout.defaultConfig, kv: try session.get(layout.defaultConfig))
        let own = target == "default" ? nil : StoredConfig(key: layout.config(target), kv: try session.get(layout.config(target)))
        let effective = ConfigValue.effective(defaultValue: defaultConfig.kv?.value, nodeValue: own?.kv?.value)
        if output == .json {
            session.output.write(CtlJSON.document([
                "node": target, "key": (own ?? defaultConfig).json, "default": CtlJSON.orNull(own.map { _ in defaultConfig.json }),
                "effective": effective.json,
            ]))
            return CtlExitCode.success
        }
        var text = (own?.text ?? "") + defaultConfig.text
        if let own {
            text += "# effective for \(target) (built-in defaults, then \(layout.defaultConfig), then \(own.key))\n"
        } else {
            text += "# effective for nodes without their own key (built-in defaults, then \(layout.defaultConfig))\n"
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
        \(ConfigSetCommand.maxAttempts) times). Metric names: \(ConfigValue.knownNames). \
        An empty value (metrics=, interval=) removes the field, as Key= resets a key \
        in the settings file: the node takes the default key's value, else the \
        built-in default.

        A node that never registered (no registry entry, heartbeat or recorded state) \
        is refused, with the closest known name, unless --force (to configure a node \
        before its first start). "all", "any", "every" and "none" are refused even with \
        --force unless a node of that name exists: no key applies to every node but \
        "default".
        Example: monitorctl config set worker1 interval=2 metrics=cpu,memory
        """)

    static let maxAttempts = 5

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A node name, or \"default\".", valueName: "node"))
    var target: String

    @Argument(help: ArgumentHelp("interval=SECONDS or metrics=NAME[,NAME...]; an empty value resets the field.",
                                 valueName: "field=value"))
    var assignments: [String] = []

    @Flag(name: .long, help: "Write the config of a node that has not registered yet (pre-provisioning).")
    var force = false

    func validate() throws {
        try CtlSession.validate(target: target, allowDefault: true)
        guard !assignments.isEmpty else { throw ValidationError("expected at least one \(ConfigValue.assignmentHelp)") }
        do { _ = try ConfigValue.parseAssignments(assignments) } catch let error as CtlError {
            throw ValidationError(error.message)
        }
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let fields = try ConfigValue.parseAssignments(assignments)
        try session.checkConfigTarget(target, force: force)
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
               ConfigValue.isSame(object, ConfigValue.applying(fields, to: existing)) {
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
