import ArgumentParser
import Concurrency
import EtcdClient
import FleetModel
import Foundation
import MonitorSettings

/// The command tree. Parsing only: `MonitorctlRunner` executes.
struct Monitorctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitorctl",
        abstract: "Inspect and configure the monitored fleet directly in etcd.",
        discussion: """
        Reads the same settings as the daemons (/etc/monitor/monitor.conf, [Etcd] and \
        [Server] sections) and talks to etcd directly: it works whether or not \
        monitor-serverd runs.

        The connection options (--config, --endpoints) are accepted anywhere on the \
        line, before the command (as etcdctl and kubectl take them) or after it.

        Exit codes: 0 success; 1 runtime error (etcd unreachable, unknown node, a \
        conflicting change, a refused write); 2 usage error or invalid value; 78 \
        settings error. `status` follows the Nagios convention (0 OK, 1 WARNING, \
        2 CRITICAL, 3 UNKNOWN) and `endpoints` exits 2 when a member is down or \
        there is no leader.
        """,
        version: MonitorVersion.string,
        subcommands: [StatusCommand.self, ConfigGroup.self, NodeGroup.self, WatchCommand.self, EndpointsCommand.self,
                      AuthGroup.self])

    /// Parsed here so that `monitorctl --endpoints URL status` works: a
    /// subcommand's option group of the same type takes this value.
    @OptionGroup var global: GlobalOptions
}

struct ConfigGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Read and change agent configuration (<prefix>/config/<node> and <prefix>/config/default).",
        discussion: """
        A node's key overrides the default key field by field; fields neither sets \
        take the built-in defaults (\(AgentConfig.default.summary)).
        """,
        subcommands: [ConfigGetCommand.self, ConfigListCommand.self, ConfigSetCommand.self, ConfigEditCommand.self,
                      ConfigDeleteCommand.self])

    /// `monitorctl config --endpoints URL get NODE`: see `Monitorctl.global`.
    @OptionGroup var global: GlobalOptions
}

struct NodeGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Manage the node registry (<prefix>/nodes/<node>).",
        subcommands: [NodeForgetCommand.self])

    /// `monitorctl node --endpoints URL forget NODE`: see `Monitorctl.global`.
    @OptionGroup var global: GlobalOptions
}

/// Runs one monitorctl invocation: parses the arguments, loads the settings,
/// executes the command and turns every outcome into an exit code and at most a
/// few lines on stderr (never a stack trace). The binary's `main` and the tests
/// use it alike.
public final class MonitorctlRunner {
    private let output: CtlOutput
    private let environment: [String: String]
    private let now: () -> Double
    private let installSignalHandlers: Bool
    /// Stopping it ends a running `watch` (the binary stops it on SIGINT/SIGTERM).
    public let stopSignal = StopSignal()
    /// Test hook: runs before every compare-and-swap write of `config set`/`edit`
    /// with the attempt number (1, 2, ...), e.g. to make a concurrent change.
    public var beforeWrite: ((Int) -> Void)?

    /// - Parameter installSignalHandlers: true in the binary: `watch` then stops on
    ///   SIGINT, SIGTERM and SIGHUP. Tests leave it false and use `stopSignal`.
    public init(output: CtlOutput, environment: [String: String] = ProcessInfo.processInfo.environment,
                now: @escaping () -> Double = { Date().timeIntervalSince1970 }, installSignalHandlers: Bool = false) {
        self.output = output
        self.environment = environment
        self.now = now
        self.installSignalHandlers = installSignalHandlers
    }

    /// `arguments` without the program name. Returns the exit code.
    public func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsableCommand
        do {
            parsed = try Monitorctl.parseAsRoot(arguments)
        } catch {
            // Only a real parse error: --help, --version and --generate-completion-script end by throwing too.
            if Monitorctl.exitCode(for: error) != .success, let unknown = Suggestion.unknownCommand(in: arguments) {
                output.writeError("Error: \(unknown)\nUsage: \(Monitorctl.usageString())\n  See 'monitorctl --help' for more information.\n")
                return CtlExitCode.usage
            }
            return report(parseError: error)
        }
        if parsed is Monitorctl || parsed is ConfigGroup || parsed is NodeGroup {
            // A group without its subcommand ("monitorctl", "monitorctl config").
            output.writeError(Monitorctl.helpMessage(for: type(of: parsed)) + "\n")
            return CtlExitCode.usage
        }
        guard let command = parsed as? CtlCommand else {
            // ArgumentParser's own commands (`--help`, `help status`) end by throwing.
            do {
                var builtIn = parsed
                try builtIn.run()
                return CtlExitCode.success
            } catch {
                return report(parseError: error)
            }
        }
        // Precedence: flag, then environment, then the settings file.
        func fromEnvironment(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let configPath = command.global.config ?? fromEnvironment("MONITOR_CONFIG")
        var settings: Settings
        do {
            // Flags that replace the credentials are resolved with the rest in `apply`.
            settings = try Settings.load(path: configPath ?? Settings.defaultPath, required: configPath != nil,
                                         resolvingCredentials: !command.global.overridesCredentials)
        } catch {
            output.errorLine("monitorctl: \(error)")
            return CtlExitCode.settings
        }
        do {
            if let endpoints = command.global.endpoints {
                settings.etcd.endpoints = try Self.parseEndpoints(endpoints, source: "--endpoints")
            } else if let endpoints = fromEnvironment("MONITOR_ENDPOINTS") {
                settings.etcd.endpoints = try Self.parseEndpoints(endpoints, source: "MONITOR_ENDPOINTS")
            }
            settings.etcd = try command.global.apply(to: settings.etcd, settingsFile: configPath ?? Settings.defaultPath,
                                                     askPassword: PasswordPrompt.ask)
            let session = CtlSession(settings: settings, output: output, environment: environment, now: now,
                                     stopSignal: stopSignal, installSignalHandlers: installSignalHandlers,
                                     beforeWrite: beforeWrite)
            return try command.execute(session)
        } catch let error as CtlError {
            output.errorLine("monitorctl: \(error.message)")
            return error.exitCode
        } catch {
            output.errorLine("monitorctl: \(error)")
            return CtlExitCode.failure
        }
    }

    /// Help and --version go to stdout with 0; every parse error to stderr with 2.
    private func report(parseError error: Error) -> Int32 {
        let message = Monitorctl.fullMessage(for: error)
        if Monitorctl.exitCode(for: error) == .success {
            output.write(message.hasSuffix("\n") ? message : message + "\n")
            return CtlExitCode.success
        }
        output.writeError(message.hasSuffix("\n") ? message : message + "\n")
        return CtlExitCode.usage
    }

    /// `--endpoints` or `MONITOR_ENDPOINTS` (`source` names it in errors), checked
    /// by the same rule as [Etcd] Endpoints; etcdctl's `host:port` form means
    /// `http://host:port`.
    static func parseEndpoints(_ text: String, source: String = "--endpoints") throws -> [String] {
        // An empty value would mean "the default" in a settings file; here it is a mistake.
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty, !text.contains(where: \.isNewline) else {
            throw CtlError.usage("\(source): expected a comma-separated list of http:// or https:// URLs")
        }
        let urls = text.split(separator: ",", omittingEmptySubsequences: false).map { item -> String in
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            return trimmed.contains("://") || trimmed.isEmpty ? trimmed : "http://" + trimmed
        }
        do {
            return try Settings.parse("[Etcd]\nEndpoints=\(urls.joined(separator: ","))\n", file: source).etcd.endpoints
        } catch let error as SettingsError {
            throw CtlError.usage("\(source): \(error.message)")
        }
    }
}
