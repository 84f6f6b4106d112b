@testable import MonitorSettings
import XCTest

/// Every key's valid and invalid values, with the exact error each bad value gives.
final class SettingsKeyTests: XCTestCase {
    private func settings(_ change: (inout Settings) -> Void) -> Settings {
        var settings = Settings()
        change(&settings)
        return settings
    }

    func testDefaults() {
        let expected = Settings(
            etcd: EtcdSettings(endpoints: ["http://127.0.0.1:2379"], keyPrefix: "/monitor",
                               requestTimeoutSec: 2),
            agent: AgentSettings(nodeName: "", leaseTTLSec: 5),
            server: ServerSettings(cpuWarnPercent: 90, memoryWarnPercent: 90,
                                   summaryIntervalSec: 300, staleAfterRounds: 3, historyRetentionSec: 300),
            log: LogSettings(level: "info"))
        XCTAssertEqual(Settings(), expected)
        XCTAssertEqual(EtcdSettings(), expected.etcd)
        XCTAssertEqual(AgentSettings(), expected.agent)
        XCTAssertEqual(ServerSettings(), expected.server)
        XCTAssertEqual(LogSettings(), expected.log)
        XCTAssertEqual(Settings().etcd.requestTimeout, .seconds(2))
        XCTAssertEqual(Settings().agent.leaseTTL, .seconds(5))
        XCTAssertEqual(Settings().server.summaryInterval, .seconds(300))
    }

    func testTableNamesAreUniqueAndEverySectionHasKeys() {
        let names = SettingsKey.all.map { "\($0.section.rawValue).\($0.name)" }
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(names, [
            "Etcd.Endpoints", "Etcd.KeyPrefix", "Etcd.RequestTimeoutSec",
            "Etcd.CAFile", "Etcd.CertFile", "Etcd.KeyFile", "Etcd.Username", "Etcd.PasswordFile",
            "Agent.NodeName", "Agent.LeaseTTLSec",
            "Server.CPUWarnPercent", "Server.MemoryWarnPercent", "Server.SummaryIntervalSec",
            "Server.StaleAfterRounds", "Server.HistoryRetentionSec", "Server.ElectionTTLSec",
            "Server.EtcdUsername", "Server.EtcdPasswordFile", "Server.Listen",
            "Log.Level",
        ])
        for section in SettingsSection.allCases {
            XCTAssertFalse(SettingsKey.keys(in: section).isEmpty, section.rawValue)
        }
    }

    func testDefaultTextOfEveryKeyParsesToTheDefault() throws {
        for key in SettingsKey.all where !key.defaultText.isEmpty {
            let text = "[\(key.section.rawValue)]\n\(key.name)=\(key.defaultText)\n"
            XCTAssertEqual(try Settings.parse(text, file: "t.conf"), Settings(), key.name)
        }
    }

    func testValidValues() throws {
        let cases: [(section: String, line: String, expected: Settings, at: UInt)] = [
            ("Etcd", "Endpoints=http://10.0.0.1:2379", settings { $0.etcd.endpoints = ["http://10.0.0.1:2379"] }, #line),
            // No port: etcd's client port, never http's 80.
            ("Etcd", "Endpoints=https://etcd.example.com", settings { $0.etcd.endpoints = ["https://etcd.example.com:2379"] }, #line),
            ("Etcd", "Endpoints=http://127.0.0.1/", settings { $0.etcd.endpoints = ["http://127.0.0.1:2379"] }, #line),
            ("Etcd", "Endpoints=http://a:1/, HTTPS://b_2.x:65535 ,http://[::1]:2379",
             settings { $0.etcd.endpoints = ["http://a:1", "https://b_2.x:65535", "http://[::1]:2379"] }, #line),
            ("Etcd", "Endpoints=http://[fe80::1]", settings { $0.etcd.endpoints = ["http://[fe80::1]:2379"] }, #line),
            ("Etcd", "KeyPrefix=/fleet", settings { $0.etcd.keyPrefix = "/fleet" }, #line),
            ("Etcd", "KeyPrefix=/a/b//", settings { $0.etcd.keyPrefix = "/a/b" }, #line),
            ("Etcd", "RequestTimeoutSec=0.1", settings { $0.etcd.requestTimeoutSec = 0.1 }, #line),
            ("Etcd", "RequestTimeoutSec=60", settings { $0.etcd.requestTimeoutSec = 60 }, #line),
            ("Etcd", "RequestTimeoutSec=.5", settings { $0.etcd.requestTimeoutSec = 0.5 }, #line),
            ("Etcd", "RequestTimeoutSec=1.", settings { $0.etcd.requestTimeoutSec = 1 }, #line),
            ("Agent", "NodeName=worker-1.lab_A", settings { $0.agent.nodeName = "worker-1.lab_A" }, #line),
            ("Agent", "NodeName=" + String(repeating: "n", count: 64),
             settings { $0.agent.nodeName = String(repeating: "n", count: 64) }, #line),
            ("Agent", "LeaseTTLSec=2", settings { $0.agent.leaseTTLSec = 2 }, #line),
            ("Agent", "LeaseTTLSec=3600", settings { $0.agent.leaseTTLSec = 3600 }, #line),
            ("Agent", "LeaseTTLSec=010", settings { $0.agent.leaseTTLSec = 10 }, #line),
            ("Server", "CPUWarnPercent=1", settings { $0.server.cpuWarnPercent = 1 }, #line),
            ("Server", "CPUWarnPercent=99.5", settings { $0.server.cpuWarnPercent = 99.5 }, #line),
            ("Server", "MemoryWarnPercent=100", settings { $0.server.memoryWarnPercent = 100 }, #line),
            ("Server", "SummaryIntervalSec=0", settings { $0.server.summaryIntervalSec = 0 }, #line),
            ("Server", "SummaryIntervalSec=86400", settings { $0.server.summaryIntervalSec = 86400 }, #line),
            ("Server", "StaleAfterRounds=2", settings { $0.server.staleAfterRounds = 2 }, #line),
            ("Server", "StaleAfterRounds=100", settings { $0.server.staleAfterRounds = 100 }, #line),
            ("Log", "Level=trace", settings { $0.log.level = "trace" }, #line),
            ("Log", "Level=WARNING", settings { $0.log.level = "warning" }, #line),
            ("Log", "Level=Critical", settings { $0.log.level = "critical" }, #line),
        ]
        for test in cases {
            let parsed = try Settings.parse("[\(test.section)]\n\(test.line)\n", file: "t.conf")
            XCTAssertEqual(parsed, test.expected, test.line, line: test.at)
        }
        XCTAssertNil(settings { $0.server.summaryIntervalSec = 0 }.server.summaryInterval)
    }

    func testInvalidValuesNameFileLineAndExpectation() {
        let endpoints = "expected a comma-separated list of http:// or https:// URLs with a host, "
            + "an optional port (2379, etcd's client port, when none) and no path"
        let prefix = "expected a key prefix starting with \"/\", without whitespace, other than \"/\" alone"
        let timeout = "expected a number of seconds from 0.1 to 60"
        let nodeName = "expected 1 to 64 characters of A-Z a-z 0-9 . _ -, not \"default\" (the fleet-wide config key), "
            + "or nothing for the host name"
        let ttl = "expected a whole number of seconds from 2 to 3600"
        let percent = "expected a percentage from 1 to 100"
        let interval = "expected a whole number of seconds from 0 to 86400 (0 disables the summary)"
        let rounds = "expected a whole number of rounds from 2 to 100"
        let level = "expected one of: trace, debug, info, notice, warning, error, critical"
        let cases: [(section: String, line: String, message: String, at: UInt)] = [
            ("Etcd", "Endpoints=127.0.0.1:2379", "Endpoints=\"127.0.0.1:2379\": \(endpoints)", #line),
            ("Etcd", "Endpoints=ftp://a", "Endpoints=\"ftp://a\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://", "Endpoints=\"http://\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a#f", "Endpoints=\"http://a#f\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a/v3", "Endpoints=\"http://a/v3\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a//", "Endpoints=\"http://a//\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a:0", "Endpoints=\"http://a:0\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a:65536", "Endpoints=\"http://a:65536\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a:", "Endpoints=\"http://a:\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a:x", "Endpoints=\"http://a:x\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://u@a", "Endpoints=\"http://u@a\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a?x=1", "Endpoints=\"http://a?x=1\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://::1", "Endpoints=\"http://::1\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://[::1", "Endpoints=\"http://[::1\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://[]", "Endpoints=\"http://[]\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://bücher.de", "Endpoints=\"http://bücher.de\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a b", "Endpoints=\"http://a b\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a,", "Endpoints=\"http://a,\": \(endpoints)", #line),
            ("Etcd", "Endpoints=http://a,,http://b", "Endpoints=\"http://a,,http://b\": \(endpoints)", #line),
            ("Etcd", "Endpoints=,", "Endpoints=\",\": \(endpoints)", #line),
            ("Etcd", "KeyPrefix=monitor", "KeyPrefix=\"monitor\": \(prefix)", #line),
            ("Etcd", "KeyPrefix=/", "KeyPrefix=\"/\": \(prefix)", #line),
            ("Etcd", "KeyPrefix=///", "KeyPrefix=\"///\": \(prefix)", #line),
            ("Etcd", "KeyPrefix=/my fleet", "KeyPrefix=\"/my fleet\": \(prefix)", #line),
            ("Etcd", "RequestTimeoutSec=0.09", "RequestTimeoutSec=\"0.09\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=60.5", "RequestTimeoutSec=\"60.5\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=-1", "RequestTimeoutSec=\"-1\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=1e1", "RequestTimeoutSec=\"1e1\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=inf", "RequestTimeoutSec=\"inf\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=nan", "RequestTimeoutSec=\"nan\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=.", "RequestTimeoutSec=\".\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=1.2.3", "RequestTimeoutSec=\"1.2.3\": \(timeout)", #line),
            ("Etcd", "RequestTimeoutSec=2s", "RequestTimeoutSec=\"2s\": \(timeout)", #line),
            ("Agent", "NodeName=" + String(repeating: "n", count: 65),
             "NodeName=\"\(String(repeating: "n", count: 65))\": \(nodeName)", #line),
            ("Agent", "NodeName=default", "NodeName=\"default\": \(nodeName)", #line),
            // A long offending value is quoted in part only.
            ("Agent", "NodeName=" + String(repeating: "n", count: 5000),
             "NodeName=\"\(String(repeating: "n", count: 79))…\": \(nodeName)", #line),
            ("Agent", "NodeName=node/1", "NodeName=\"node/1\": \(nodeName)", #line),
            ("Agent", "NodeName=my node", "NodeName=\"my node\": \(nodeName)", #line),
            ("Agent", "NodeName=nœud", "NodeName=\"nœud\": \(nodeName)", #line),
            ("Agent", "LeaseTTLSec=abc", "LeaseTTLSec=\"abc\": \(ttl)", #line),
            ("Agent", "LeaseTTLSec=1", "LeaseTTLSec=\"1\": \(ttl)", #line),
            ("Agent", "LeaseTTLSec=3601", "LeaseTTLSec=\"3601\": \(ttl)", #line),
            ("Agent", "LeaseTTLSec=5.5", "LeaseTTLSec=\"5.5\": \(ttl)", #line),
            ("Agent", "LeaseTTLSec=+5", "LeaseTTLSec=\"+5\": \(ttl)", #line),
            ("Agent", "LeaseTTLSec=99999999999999999999999", "LeaseTTLSec=\"99999999999999999999999\": \(ttl)", #line),
            ("Server", "CPUWarnPercent=0", "CPUWarnPercent=\"0\": \(percent)", #line),
            ("Server", "CPUWarnPercent=100.1", "CPUWarnPercent=\"100.1\": \(percent)", #line),
            ("Server", "CPUWarnPercent=90%", "CPUWarnPercent=\"90%\": \(percent)", #line),
            ("Server", "MemoryWarnPercent=0.5", "MemoryWarnPercent=\"0.5\": \(percent)", #line),
            ("Server", "MemoryWarnPercent=high", "MemoryWarnPercent=\"high\": \(percent)", #line),
            ("Server", "SummaryIntervalSec=86401", "SummaryIntervalSec=\"86401\": \(interval)", #line),
            ("Server", "SummaryIntervalSec=-1", "SummaryIntervalSec=\"-1\": \(interval)", #line),
            ("Server", "SummaryIntervalSec=5m", "SummaryIntervalSec=\"5m\": \(interval)", #line),
            ("Server", "StaleAfterRounds=1", "StaleAfterRounds=\"1\": \(rounds)", #line),
            ("Server", "StaleAfterRounds=101", "StaleAfterRounds=\"101\": \(rounds)", #line),
            ("Log", "Level=verbose", "Level=\"verbose\": \(level)", #line),
            ("Log", "Level=warn", "Level=\"warn\": \(level)", #line),
        ]
        for test in cases {
            XCTAssertThrowsError(try Settings.parse("[\(test.section)]\n\(test.line)\n", file: "/x/t.conf"),
                                 test.line, line: test.at) { error in
                XCTAssertEqual(error as? SettingsError,
                               SettingsError(file: "/x/t.conf", line: 2, message: test.message),
                               line: test.at)
            }
        }
    }

    func testBriefExampleMessage() {
        let text = "[Etcd]\nEndpoints=http://127.0.0.1:2379\n\n[Agent]\nLeaseTTLSec=abc\n"
        XCTAssertThrowsError(try Settings.parse(text, file: "/etc/monitor/monitor.conf")) { error in
            XCTAssertEqual("\(error)",
                "/etc/monitor/monitor.conf:5: LeaseTTLSec=\"abc\": expected a whole number of seconds from 2 to 3600")
        }
    }

    func testResolvedNodeName() {
        var settings = Settings()
        XCTAssertEqual(settings.resolvedNodeName(hostname: "worker1"), "worker1")
        XCTAssertEqual(settings.resolvedNodeName(hostname: "web-1.example.com"), "web-1.example.com")
        XCTAssertEqual(settings.resolvedNodeName(hostname: "bad name/é"), "bad_name__")
        XCTAssertEqual(settings.resolvedNodeName(hostname: String(repeating: "h", count: 70)),
                       String(repeating: "h", count: 64))
        XCTAssertEqual(settings.resolvedNodeName(hostname: ""), "localhost")
        settings.agent.nodeName = "n1"
        XCTAssertEqual(settings.resolvedNodeName(hostname: "worker1"), "n1")
    }
}
