/// The sections of monitor.conf, in the order they are documented and listed in errors.
enum SettingsSection: String, CaseIterable, Sendable {
    case etcd = "Etcd"
    case agent = "Agent"
    case server = "Server"
    case log = "Log"
}

/// One `Key=Value` setting: where it lives, its default, how its value is checked and
/// where it is stored. Adding a setting is one entry in `all` plus its field.
struct SettingsKey: Sendable {
    let section: SettingsSection
    let name: String
    /// As it would be written in the file (and in the commented default file).
    let defaultText: String
    /// What a valid value looks like, e.g. "a whole number of seconds from 2 to 3600".
    let expected: String
    /// Stores a value; false when the value is not valid. Never called with "".
    private let store: @Sendable (String, inout Settings) -> Bool
    /// Stores the default: what an empty value does, systemd-style.
    private let storeDefault: @Sendable (inout Settings) -> Void

    /// `field` stores a checked value into its `Settings` property.
    init<Value: Sendable>(_ section: SettingsSection, _ name: String, default defaultText: String,
                          _ value: SettingsValue<Value>,
                          field: @escaping @Sendable (inout Settings, Value) -> Void) {
        // Checked once when the table is first used: a default the key itself would
        // reject is a programming error, not a configuration error.
        guard let defaultValue = value.parse(defaultText) else {
            preconditionFailure("default \(name)=\"\(defaultText)\" is not \(value.expected)")
        }
        self.section = section
        self.name = name
        self.defaultText = defaultText
        self.expected = value.expected
        self.store = { text, settings in
            guard let parsed = value.parse(text) else { return false }
            field(&settings, parsed)
            return true
        }
        self.storeDefault = { settings in
            field(&settings, defaultValue)
        }
    }

    /// Applies `text` (already trimmed): empty resets to the default.
    /// Returns false when the value is not valid; `settings` is then unchanged.
    func apply(_ text: String, to settings: inout Settings) -> Bool {
        if text.isEmpty {
            storeDefault(&settings)
            return true
        }
        return store(text, &settings)
    }

    func resetToDefault(_ settings: inout Settings) {
        storeDefault(&settings)
    }

    /// Every setting, in documentation order.
    static let all: [SettingsKey] = [
        SettingsKey(.etcd, "Endpoints", default: "http://127.0.0.1:2379", .endpointList) {
            $0.etcd.endpoints = $1
        },
        SettingsKey(.etcd, "KeyPrefix", default: "/monitor", .keyPrefix) {
            $0.etcd.keyPrefix = $1
        },
        SettingsKey(.etcd, "RequestTimeoutSec", default: "2",
                    .number(0.1...60, "a number of seconds")) {
            $0.etcd.requestTimeoutSec = $1
        },
        // TLS and authentication; files are read (and secrets' modes checked) by
        // `EtcdCredentials.resolve` once the whole settings are known.
        SettingsKey(.etcd, "CAFile", default: "", .filePath) { $0.etcd.caFile = $1 },
        SettingsKey(.etcd, "CertFile", default: "", .filePath) { $0.etcd.certFile = $1 },
        SettingsKey(.etcd, "KeyFile", default: "", .filePath) { $0.etcd.keyFile = $1 },
        SettingsKey(.etcd, "Username", default: "", .etcdUser) { $0.etcd.username = $1 },
        SettingsKey(.etcd, "PasswordFile", default: "", .filePath) { $0.etcd.passwordFile = $1 },

        SettingsKey(.agent, "NodeName", default: "", .nodeName) {
            $0.agent.nodeName = $1
        },
        // etcd silently raises TTLs below about 2 s (its minimum with default election
        // settings), so a smaller value would not mean what it says.
        SettingsKey(.agent, "LeaseTTLSec", default: "5",
                    .wholeNumber(2...3600, "a whole number of seconds")) {
            $0.agent.leaseTTLSec = $1
        },

        SettingsKey(.server, "CPUWarnPercent", default: "90", .number(1...100, "a percentage")) {
            $0.server.cpuWarnPercent = $1
        },
        SettingsKey(.server, "MemoryWarnPercent", default: "90", .number(1...100, "a percentage")) {
            $0.server.memoryWarnPercent = $1
        },
        SettingsKey(.server, "SummaryIntervalSec", default: "300",
                    .wholeNumber(0...86400, "a whole number of seconds", note: " (0 disables the summary)")) {
            $0.server.summaryIntervalSec = $1
        },
        SettingsKey(.server, "StaleAfterRounds", default: "3",
                    .wholeNumber(2...100, "a whole number of rounds")) {
            $0.server.staleAfterRounds = $1
        },
        SettingsKey(.server, "HistoryRetentionSec", default: "300",
                    .wholeNumber(0...86400, "a whole number of seconds",
                                 note: " (0 leaves compacting etcd's history to etcd)")) {
            $0.server.historyRetentionSec = $1
        },
        SettingsKey(.server, "ElectionTTLSec", default: "10",
                    .wholeNumber(2...300, "a whole number of seconds")) {
            $0.server.electionTTLSec = $1
        },
        // The server's own etcd user when it shares a host (and so the settings)
        // with an agent; see `Settings.load(path:required:program:)`.
        SettingsKey(.server, "EtcdUsername", default: "", .etcdUser) { $0.server.etcdUsername = $1 },
        SettingsKey(.server, "EtcdPasswordFile", default: "", .filePath) { $0.server.etcdPasswordFile = $1 },
        // 9732: not among the ports the exporters register on Prometheus' wiki
        // (9100 node_exporter, 9090 Prometheus, 9093 Alertmanager, ...).
        SettingsKey(.server, "Listen", default: "127.0.0.1:9732", .listenAddress) {
            $0.server.listen = $1
        },

        SettingsKey(.log, "Level", default: "info",
                    .oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"])) {
            $0.log.level = $1
        },
    ]

    /// The keys of one section, in table order.
    static func keys(in section: SettingsSection) -> [SettingsKey] {
        all.filter { $0.section == section }
    }
}
