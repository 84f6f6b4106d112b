import ArgumentParser
import Concurrency
import DaemonKit
import FleetModel
import Logging
import MonitorAgent
import MonitorLogging
import MonitorSettings

/// monitor-agentd: parse arguments, load settings, bootstrap logging, run the agent.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor-agentd",
        abstract: "Node monitoring agent: heartbeat lease and live config in etcd, metrics from /proc.",
        discussion: """
        Settings come from /etc/monitor/monitor.conf and /etc/monitor/monitor.conf.d/*.conf \
        ([Etcd] and [Agent] sections). Exit code 78 means a settings error. SIGHUP re-reads \
        the settings; SIGTERM stops cleanly (the server reports the node LEFT). An [Etcd] \
        endpoint without a port means etcd's client port, 2379.
        """,
        version: MonitorVersion.string)

    @Option(name: .long, help: ArgumentHelp("Settings file; drop-ins are read from <file>.d/*.conf.", valueName: "path"))
    var config: String?

    @Flag(name: .customLong("check-config"), help: "Check the settings files and exit: 0 when valid, 78 with the first error (ExecReload= runs it first).")
    var checkConfig = false

    @Option(name: .long, help: .hidden)
    var procRoot = "/proc"

    /// Tests give two agents on one host two machines.
    @Option(name: .long, help: .hidden)
    var machineIDFile = AgentDaemon.Options.machineIDPath

    func run() throws {
        if checkConfig { CommandSupport.checkSettingsAndExit(program: .agent, configOption: config) }
        // Before any thread exists, so only the signal thread ever receives them.
        SignalListener.blockSignals()
        let settings = CommandSupport.loadSettingsOrExit(program: .agent, configOption: config)
        LoggingBootstrap.bootstrap(identifier: "monitor-agentd", level: Logger.Level(rawValue: settings.log.level) ?? .info)
        let logger = Logger(label: "monitor-agentd")
        let options = AgentDaemon.Options(hostname: CommandSupport.hostname(), procRoot: procRoot,
                                          machineIDFile: machineIDFile)
        let supervisor = Supervisor(logger: logger, mainWorker: AgentDaemon.workLoop,
                                    settingsPath: config ?? Settings.defaultPath, settingsRequired: config != nil,
                                    program: .agent) {
            AgentDaemon(settings: settings, options: options, logger: logger, context: $0)
        }
        throw ExitCode(supervisor.run())
    }
}

AgentCommand.main()
