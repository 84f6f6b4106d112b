import ArgumentParser
import Concurrency
import DaemonKit
import FleetModel
import Logging
import MonitorLogging
import MonitorServer
import MonitorSettings

/// monitor-serverd: parse arguments, load settings, bootstrap logging, run the server.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor-serverd",
        abstract: "Central monitor: watches every node's heartbeat in etcd and reports ALIVE, LEFT and DEAD.",
        discussion: """
        Settings come from /etc/monitor/monitor.conf and /etc/monitor/monitor.conf.d/*.conf \
        ([Etcd] and [Server] sections). Exit code 78 means a settings error. SIGHUP re-reads \
        the settings. An [Etcd] endpoint without a port means etcd's client port, 2379.
        """,
        version: MonitorVersion.string)

    @Option(name: .long, help: ArgumentHelp("Settings file; drop-ins are read from <file>.d/*.conf.", valueName: "path"))
    var config: String?

    @Flag(name: .customLong("check-config"), help: "Check the settings files and exit: 0 when valid, 78 with the first error (ExecReload= runs it first).")
    var checkConfig = false

    func run() throws {
        if checkConfig { CommandSupport.checkSettingsAndExit(program: .server, configOption: config) }
        // Before any thread exists, so only the signal thread ever receives them.
        SignalListener.blockSignals()
        let settings = CommandSupport.loadSettingsOrExit(program: .server, configOption: config)
        LoggingBootstrap.bootstrap(identifier: "monitor-serverd", level: Logger.Level(rawValue: settings.log.level) ?? .info)
        let logger = Logger(label: "monitor-serverd")
        let supervisor = Supervisor(logger: logger, mainWorker: ServerDaemon.mainLoop,
                                    settingsPath: config ?? Settings.defaultPath, settingsRequired: config != nil,
                                    program: .server) {
            ServerDaemon(settings: settings, logger: logger, context: $0)
        }
        throw ExitCode(supervisor.run())
    }
}

ServerCommand.main()
