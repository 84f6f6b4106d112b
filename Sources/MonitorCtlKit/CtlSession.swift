import ArgumentParser
import Concurrency
import EtcdClient
import FleetModel
import Foundation
import MonitorSettings

/// monitorctl's exit codes (documented in `monitorctl --help`).
public enum CtlExitCode {
    public static let success: Int32 = 0
    /// A runtime error (etcd unreachable, unknown node, conflicting change).
    public static let failure: Int32 = 1
    /// Bad usage or an invalid value on the command line or in an edited file.
    public static let usage: Int32 = 2
    /// The settings file could not be loaded (EX_CONFIG, like the daemons).
    public static let settings: Int32 = CommandSupport.configExitCode

    /// `status` follows the Nagios plugin convention that monitoring systems
    /// understand: OK, WARNING (a node stale, or stopped but still registered),
    /// CRITICAL (a node dead), UNKNOWN (cannot know: etcd unreachable, no node at all).
    public enum Status {
        public static let ok: Int32 = 0
        public static let warning: Int32 = 1
        public static let critical: Int32 = 2
        public static let unknown: Int32 = 3
    }
}

/// An error a command reports as one line, `monitorctl: <message>`, and exits with.
struct CtlError: Error, CustomStringConvertible {
    let message: String
    let exitCode: Int32

    static func usage(_ message: String) -> CtlError { CtlError(message: message, exitCode: CtlExitCode.usage) }
    static func runtime(_ message: String) -> CtlError { CtlError(message: message, exitCode: CtlExitCode.failure) }

    var description: String { message }
}

/// The connection options, accepted by every command: `--config` and
/// `--endpoints` override their environment variables, which override the
/// settings file; the TLS and user options override `[Etcd]`'s. A password is
/// never an argument (it would show in `ps`): `--password-file`, or asked on
/// the terminal.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Settings file (else $MONITOR_CONFIG, else \(Settings.defaultPath)); drop-ins are read from <path>.d/*.conf.",
        valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp(
        "etcd client URLs (else $MONITOR_ENDPOINTS, else [Etcd] Endpoints); host:port means http://host:port, no port 2379.",
        valueName: "url[,url...]"))
    var endpoints: String?

    @Option(name: .long, help: ArgumentHelp("CA file that signs etcd's certificate (else [Etcd] CAFile).", valueName: "path"))
    var cacert: String?

    @Option(name: .long, help: ArgumentHelp("Client certificate for etcd (else [Etcd] CertFile).", valueName: "path"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("The client certificate's key (else [Etcd] KeyFile).", valueName: "path"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp(
        "etcd user (else [Etcd] Username); its password from --password-file, else asked on the terminal.",
        valueName: "name"))
    var user: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "File with the --user's password on one line (no access for other users).", valueName: "path"))
    var passwordFile: String?

    var overridesCredentials: Bool { cacert != nil || cert != nil || key != nil || user != nil || passwordFile != nil }

    /// `settings.etcd` with these options applied and the credentials read
    /// again. Relative paths are the working directory's (typed by a person,
    /// not read from a file); `askPassword` asks for `--user`'s password when no
    /// file gives it.
    func apply(to etcd: EtcdSettings, settingsFile: String, askPassword: (String) throws -> Secret) throws -> EtcdSettings {
        guard overridesCredentials else { return etcd }
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }
        var etcd = etcd
        if let cacert { etcd.caFile = absolute(cacert) }
        if let cert { etcd.certFile = absolute(cert) }
        if let key { etcd.keyFile = absolute(key) }
        if let user { etcd.username = user }
        if let passwordFile { etcd.passwordFile = absolute(passwordFile) }
        let prompted = user != nil && passwordFile == nil
        if prompted { etcd.passwordFile = "" }
        let username = etcd.username
        if prompted { etcd.username = "" }
        do {
            etcd.credentials = try EtcdCredentials.resolve(etcd, settingsFile: settingsFile)
        } catch let error as SettingsError {
            throw CtlError(message: "\(error)", exitCode: CtlExitCode.settings)
        }
        if prompted {
            etcd.username = username
            etcd.credentials.username = username
            etcd.credentials.password = try askPassword(username)
        }
        return etcd
    }
}

/// A command that talks to etcd; the runner loads settings and builds the session first.
protocol CtlCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func execute(_ session: CtlSession) throws -> Int32
}

/// What a command runs with: settings, one etcd client, the key layout, where to
/// write, the environment and the clock. Owned by one command run.
final class CtlSession {
    let settings: Settings
    let client: EtcdClient
    let layout: KeyLayout
    let output: CtlOutput
    let environment: [String: String]
    let now: () -> Double
    /// Stops a running `watch` (signals in the binary, the test in tests).
    let stopSignal: StopSignal
    let installSignalHandlers: Bool
    /// Test hook: runs before every compare-and-swap write, with the attempt number.
    var beforeWrite: ((Int) -> Void)?

    init(settings: Settings, output: CtlOutput, environment: [String: String], now: @escaping () -> Double,
         stopSignal: StopSignal, installSignalHandlers: Bool, beforeWrite: ((Int) -> Void)?) {
        self.settings = settings
        let c = settings.etcd.credentials
        self.client = EtcdClient(endpoints: settings.etcd.endpoints, requestTimeout: settings.etcd.requestTimeoutSec,
                                 access: EtcdAccess.of(caFile: c.caFile, certFile: c.certFile, keyFile: c.keyFile,
                                                       username: c.username, password: c.password?.value))
        self.layout = KeyLayout(prefix: settings.etcd.keyPrefix)
        self.output = output
        self.environment = environment
        self.now = now
        self.stopSignal = stopSignal
        self.installSignalHandlers = installSignalHandlers
        self.beforeWrite = beforeWrite
    }

    /// Runs one etcd call; an EtcdError becomes a runtime error saying what we were
    /// doing, which endpoint failed and why, e.g.
    /// `reading /monitor/nodes/: etcd unreachable at http://10.0.0.5:2379 (Couldn't connect to server)`.
    func etcd<T>(_ what: String, _ body: (EtcdClient) throws -> T) throws -> T {
        do {
            return try body(client)
        } catch let error as EtcdError {
            var message = "\(what): \(error)"
            if case .unavailable = error, client.endpoints.count > 1 {
                message += "; tried \(client.endpoints.joined(separator: ", "))"
            }
            throw CtlError.runtime(message)
        }
    }

    /// The single stored value of `key`, or nil.
    func get(_ key: String) throws -> KeyValue? {
        try etcd("reading \(key)") { try $0.range(key).kvs.first }
    }

    /// Checks a NODE argument (or "default" when `allowDefault`) against the rule
    /// for [Agent] NodeName, so that a key can never leave its prefix.
    static func checkTarget(_ name: String, allowDefault: Bool) throws {
        if allowDefault && name == "default" { return }
        guard NodeName.isValid(name) else {
            throw CtlError.usage("invalid node name \"\(name)\": expected \(NodeName.expected)"
                                 + (allowDefault ? " (or \"default\")" : ""))
        }
    }

    /// `checkTarget` for a command's `validate()`, where errors are ValidationErrors.
    static func validate(target name: String, allowDefault: Bool) throws {
        do { try checkTarget(name, allowDefault: allowDefault) } catch let error as CtlError {
            throw ValidationError(error.message)
        }
    }

    /// Words an operator may type meaning "every node": no key means that but
    /// `<prefix>/config/default`.
    static let wildcardWords: Set<String> = ["all", "any", "every", "none"]

    /// Refuses a config write for a node that never registered (no registry
    /// entry, heartbeat or recorded state: a typo, most likely), naming the
    /// closest known node, unless `force` (pre-provisioning). A wildcard word is
    /// refused even with `force`, unless a node has that name.
    func checkConfigTarget(_ node: String, force: Bool) throws {
        if node == "default" { return }
        let layout = self.layout
        for key in [layout.registry(node), layout.heartbeat(node), layout.state(node)] where try get(key) != nil { return }
        if Self.wildcardWords.contains(node) {
            throw CtlError.runtime("'\(node)' is not a node and not a wildcard: \(layout.config(node)) would be read by no agent; "
                                   + "to configure every node without a key of its own, use 'default'")
        }
        if force {
            output.errorLine("monitorctl: note: node \(node) has not registered yet; its agent applies this config when it starts")
            return
        }
        throw CtlError.runtime("node '\(node)' has never registered (no \(layout.registry(node)), no heartbeat)"
                               + Suggestion.hint(for: node, among: try knownNodes())
                               + "; use --force to configure it before its first start")
    }

    /// Every node name under the prefix (registry, heartbeat or recorded state),
    /// from one range read; for suggestions.
    func knownNodes() throws -> Set<String> {
        let layout = self.layout
        let all = try etcd("reading \(layout.prefix)/") { try $0.range(layout.prefix + "/", prefix: true) }
        return Set(all.kvs.compactMap {
            layout.node(fromRegistryKey: $0.key) ?? layout.node(fromHeartbeatKey: $0.key) ?? layout.node(fromStateKey: $0.key)
        })
    }
}
