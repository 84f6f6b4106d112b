/// Settings shared by monitor-agentd, monitor-serverd and monitorctl, read from
/// `/etc/monitor/monitor.conf` and its drop-ins (see `load(path:required:)`).
///
/// Every daemon reads the whole file and uses the sections it needs. The defaults and
/// the accepted values of every key live in one table (`SettingsKey.all`); `Settings()`
/// is that table's defaults. Values held here are already validated and normalised.
public struct Settings: Equatable, Sendable {
    /// The file read when no `--config PATH` is given.
    public static let defaultPath = "/etc/monitor/monitor.conf"

    public var etcd: EtcdSettings
    public var agent: AgentSettings
    public var server: ServerSettings
    public var log: LogSettings

    /// The defaults of every key in `SettingsKey.all`.
    public init() {
        self = Settings.defaults
    }

    public init(etcd: EtcdSettings, agent: AgentSettings, server: ServerSettings, log: LogSettings) {
        self.etcd = etcd
        self.agent = agent
        self.server = server
        self.log = log
    }

    /// Built once from the key table, so the table is the only place a default is written.
    private static let defaults: Settings = {
        var settings = Settings(
            etcd: EtcdSettings(endpoints: [], keyPrefix: "", requestTimeoutSec: 0),
            agent: AgentSettings(nodeName: "", leaseTTLSec: 0),
            server: ServerSettings(cpuWarnPercent: 0, memoryWarnPercent: 0,
                                   summaryIntervalSec: 0, staleAfterRounds: 0, historyRetentionSec: 0),
            log: LogSettings(level: ""))
        for key in SettingsKey.all {
            key.resetToDefault(&settings)
        }
        return settings
    }()

    /// The name this node registers under in etcd: `[Agent] NodeName` when set,
    /// otherwise `hostname` made fit for an etcd key component (characters other than
    /// A-Z a-z 0-9 . _ - become "_", at most 64 characters, "localhost" if empty).
    public func resolvedNodeName(hostname: String) -> String {
        if !agent.nodeName.isEmpty {
            return agent.nodeName
        }
        let safe = String(hostname.unicodeScalars.prefix(NodeName.maxLength).map { scalar in
            NodeName.isAllowed(scalar) ? Character(scalar) : "_"
        })
        return safe.isEmpty ? "localhost" : safe
    }
}

/// `[Etcd]`: how to reach the cluster and where our keys live.
public struct EtcdSettings: Equatable, Sendable {
    /// Client URLs such as `http://127.0.0.1:2379`: scheme lower-cased, no trailing slash.
    public var endpoints: [String]
    /// Starts with "/", never ends with "/", e.g. `/monitor`.
    public var keyPrefix: String
    /// Upper bound for one etcd request (not for watch streams), 0.1 to 60 seconds.
    public var requestTimeoutSec: Double
    /// TLS and authentication files as written ("" when unset); `credentials`
    /// holds them resolved and read.
    public var caFile = "", certFile = "", keyFile = "", username = "", passwordFile = ""
    /// Filled by `Settings.load` (`EtcdCredentials.resolve`); empty from `parse` alone.
    public var credentials = EtcdCredentials()

    public init(endpoints: [String], keyPrefix: String, requestTimeoutSec: Double) {
        self.endpoints = endpoints
        self.keyPrefix = keyPrefix
        self.requestTimeoutSec = requestTimeoutSec
    }

    /// The defaults of `[Etcd]`.
    public init() {
        self = Settings().etcd
    }

    public var requestTimeout: Duration { .seconds(requestTimeoutSec) }
}

/// `[Agent]`: how a node registers itself.
public struct AgentSettings: Equatable, Sendable {
    /// Empty means "use the host name"; see `Settings.resolvedNodeName(hostname:)`.
    public var nodeName: String
    /// TTL of the agent's etcd lease, 2 to 3600 seconds.
    public var leaseTTLSec: Int

    public init(nodeName: String, leaseTTLSec: Int) {
        self.nodeName = nodeName
        self.leaseTTLSec = leaseTTLSec
    }

    /// The defaults of `[Agent]`.
    public init() {
        self = Settings().agent
    }

    public var leaseTTL: Duration { .seconds(leaseTTLSec) }
}

/// `[Server]`: when the server warns and how it summarises the fleet.
public struct ServerSettings: Equatable, Sendable {
    /// 1 to 100.
    public var cpuWarnPercent: Double
    /// 1 to 100.
    public var memoryWarnPercent: Double
    /// 0 to 86400 seconds; 0 disables the periodic fleet summary.
    public var summaryIntervalSec: Int
    /// 2 to 100 missed reporting rounds before a node counts as stale.
    public var staleAfterRounds: Int
    /// 0 to 86400 seconds of etcd history the server keeps: every this many
    /// seconds it compacts etcd to the revision it saw this long ago. 0: never.
    public var historyRetentionSec: Int
    /// 2 to 300 seconds: the TTL of the lease under which the leading server
    /// holds `<prefix>/leader`; a standby takes over this long after a leader died.
    public var electionTTLSec: Int
    /// The etcd user monitor-serverd uses instead of `[Etcd] Username` (and
    /// its password file), so a host running both daemons gives each its own
    /// rights; "" when unset.
    public var etcdUsername = "", etcdPasswordFile = ""
    /// Where the HTTP listener (/metrics, the fleet page) binds; nil: no listener.
    public var listen: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 9732)

    public init(cpuWarnPercent: Double, memoryWarnPercent: Double,
                summaryIntervalSec: Int, staleAfterRounds: Int, historyRetentionSec: Int, electionTTLSec: Int = 10) {
        self.cpuWarnPercent = cpuWarnPercent
        self.memoryWarnPercent = memoryWarnPercent
        self.summaryIntervalSec = summaryIntervalSec
        self.staleAfterRounds = staleAfterRounds
        self.historyRetentionSec = historyRetentionSec
        self.electionTTLSec = electionTTLSec
    }

    /// The defaults of `[Server]`.
    public init() {
        self = Settings().server
    }

    /// nil when the periodic summary is disabled.
    public var summaryInterval: Duration? {
        summaryIntervalSec == 0 ? nil : .seconds(summaryIntervalSec)
    }
}

/// `[Log]`.
public struct LogSettings: Equatable, Sendable {
    /// Lower-case swift-log level name: trace, debug, info, notice, warning, error or
    /// critical. A plain string so this module's settings need no logging dependency.
    public var level: String

    public init(level: String) {
        self.level = level
    }

    /// The defaults of `[Log]`.
    public init() {
        self = Settings().log
    }
}

/// Which executable reads the settings: the one thing that differs is whose
/// etcd identity is used (see `Settings.load(path:required:program:)`).
public enum MonitorProgram: Sendable {
    case agent, server, monitorctl

    /// The executable's name, as messages start with it.
    public var name: String {
        switch self {
        case .agent: "monitor-agentd"
        case .server: "monitor-serverd"
        case .monitorctl: "monitorctl"
        }
    }
}
