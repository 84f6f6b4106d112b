@testable import MonitorSettings
import XCTest

/// The INI syntax: comments, whitespace, sections, overrides, resets and syntax errors.
final class SettingsParserTests: XCTestCase {
    private let file = "/etc/monitor/monitor.conf"

    private func assertError(_ text: String, line: Int, _ message: String,
                             at testLine: UInt = #line) {
        XCTAssertThrowsError(try Settings.parse(text, file: file), line: testLine) { error in
            XCTAssertEqual(error as? SettingsError, SettingsError(file: file, line: line, message: message),
                           line: testLine)
        }
    }

    func testEmptyTextAndCommentsGiveDefaults() throws {
        XCTAssertEqual(try Settings.parse("", file: file), Settings())
        let text = """
            # comment
            ; comment

              # indented comment
            [Etcd]
            #Endpoints=nonsense
            ;KeyPrefix=nonsense
            \t
            """
        XCTAssertEqual(try Settings.parse(text, file: file), Settings())
    }

    func testFullFileAndWhitespaceAroundKeyAndValue() throws {
        let text = """
            [Etcd]
            Endpoints = http://10.0.0.1:2379 , http://10.0.0.2:2379
            \tKeyPrefix\t=\t/lab\t
            [Agent]
            NodeName=worker1
            LeaseTTLSec=10
              [Server]  
            CPUWarnPercent=80
            MemoryWarnPercent=85.5
            SummaryIntervalSec=0
            StaleAfterRounds=4
            [Log]
            Level=debug
            """
        var expected = Settings()
        expected.etcd.endpoints = ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]
        expected.etcd.keyPrefix = "/lab"
        expected.agent = AgentSettings(nodeName: "worker1", leaseTTLSec: 10)
        expected.server = ServerSettings(cpuWarnPercent: 80, memoryWarnPercent: 85.5,
                                         summaryIntervalSec: 0, staleAfterRounds: 4, historyRetentionSec: 300)
        expected.log.level = "debug"
        XCTAssertEqual(try Settings.parse(text, file: file), expected)
    }

    func testCRLFAndByteOrderMark() throws {
        let text = "\u{FEFF}# c\r\n[Agent]\r\nLeaseTTLSec=7\r\n"
        XCTAssertEqual(try Settings.parse(text, file: file).agent.leaseTTLSec, 7)
        assertError("[Agent]\r\n\r\nLeaseTTLSec=x\r\n", line: 3,
                    "LeaseTTLSec=\"x\": expected a whole number of seconds from 2 to 3600")
    }

    func testLastAssignmentWinsAndSectionsMayRepeat() throws {
        let text = "[Agent]\nLeaseTTLSec=7\n[Log]\nLevel=error\n[Agent]\nLeaseTTLSec=9\n"
        let settings = try Settings.parse(text, file: file)
        XCTAssertEqual(settings.agent.leaseTTLSec, 9)
        XCTAssertEqual(settings.log.level, "error")
    }

    func testEmptyValueResetsToTheDefaultNotToTheBase() throws {
        var base = Settings()
        base.agent.leaseTTLSec = 30
        base.agent.nodeName = "n1"
        base.etcd.endpoints = ["http://a:1"]
        let text = "[Agent]\nLeaseTTLSec=\nNodeName=  \n[Etcd]\nEndpoints=http://b:2\nEndpoints=\n"
        XCTAssertEqual(try Settings.parse(text, file: file, base: base), Settings())
    }

    func testParseAppliesOnTopOfBase() throws {
        var base = Settings()
        base.log.level = "trace"
        let settings = try Settings.parse("[Agent]\nNodeName=n2\n", file: file, base: base)
        XCTAssertEqual(settings.log.level, "trace")
        XCTAssertEqual(settings.agent.nodeName, "n2")
    }

    func testHashAfterValueIsPartOfTheValue() {
        // systemd has no trailing comments; neither do we.
        assertError("[Agent]\nLeaseTTLSec=5 # seconds\n", line: 2,
                    "LeaseTTLSec=\"5 # seconds\": expected a whole number of seconds from 2 to 3600")
    }

    func testValueMayContainEquals() {
        assertError("[Etcd]\nKeyPrefix=/a=b c\n", line: 2,
                    "KeyPrefix=\"/a=b c\": expected a key prefix starting with \"/\", without whitespace, "
                        + "other than \"/\" alone")
    }

    func testUnknownKeyListsTheSectionsKeys() {
        assertError("# c\n\n\n\n\n[Agent]\nLeaseTTL=5\n", line: 7,
                    "unknown key \"LeaseTTL\" in [Agent]; expected one of: NodeName, LeaseTTLSec")
        assertError("[Etcd]\nendpoints=http://a\n", line: 2,
                    "unknown key \"endpoints\" in [Etcd]; expected one of: Endpoints, KeyPrefix, RequestTimeoutSec, "
                        + "CAFile, CertFile, KeyFile, Username, PasswordFile")
        assertError("[Server]\nLevel=info\n", line: 2,
                    "unknown key \"Level\" in [Server]; expected one of: CPUWarnPercent, MemoryWarnPercent, "
                        + "SummaryIntervalSec, StaleAfterRounds, HistoryRetentionSec, ElectionTTLSec, EtcdUsername, EtcdPasswordFile, Listen")
        assertError("[Log]\nFormat=json\n", line: 2,
                    "unknown key \"Format\" in [Log]; expected one of: Level")
    }

    func testExactDescriptionOfUnknownKey() {
        let text = "[Etcd]\nEndpoints=http://127.0.0.1:2379\n\n[Agent]\n# name\nNodeName=\nLeaseTTL=5\n"
        XCTAssertThrowsError(try Settings.parse(text, file: file)) { error in
            XCTAssertEqual("\(error)", "/etc/monitor/monitor.conf:7: unknown key \"LeaseTTL\" in [Agent]; "
                + "expected one of: NodeName, LeaseTTLSec")
        }
    }

    func testUnknownSection() {
        let expected = "expected one of: Etcd, Agent, Server, Log"
        assertError("[Agent]\nLeaseTTLSec=5\n[Metrics]\n", line: 3, "unknown section \"Metrics\"; \(expected)")
        assertError("[etcd]\n", line: 1, "unknown section \"etcd\"; \(expected)")
        assertError("[ Etcd ]\n", line: 1, "unknown section \" Etcd \"; \(expected)")
        assertError("[]\n", line: 1, "unknown section \"\"; \(expected)")
    }

    func testUnterminatedSectionHeader() {
        assertError("[Etcd\n", line: 1, "unterminated section header \"[Etcd\"; expected [Name]")
        assertError("\n[\n", line: 2, "unterminated section header \"[\"; expected [Name]")
        assertError("[Etcd] # etcd\n", line: 1, "unterminated section header \"[Etcd] # etcd\"; expected [Name]")
    }

    func testKeyBeforeAnySection() {
        assertError("# c\nEndpoints=http://a\n", line: 2,
                    "key \"Endpoints\" before any section header; expected a section header such as [Etcd] first")
    }

    func testLineWithoutEquals() {
        assertError("[Agent]\nLeaseTTLSec 5\n", line: 2,
                    "\"LeaseTTLSec 5\": expected Key=Value, a [Section] header or a comment")
        assertError("[Agent]\n=5\n", line: 2, "\"=5\": expected a key name before \"=\"")
    }

    func testControlCharactersAreEscapedSoTheErrorIsOneLine() {
        assertError("[Log]\nLevel=in\u{1B}fo\n", line: 2,
                    "Level=\"in\\x1bfo\": expected one of: trace, debug, info, notice, warning, error, critical")
        assertError("[Log]\nLev\"el=1\n", line: 2,
                    "unknown key \"Lev\\\"el\" in [Log]; expected one of: Level")
    }

    func testErrorDescription() {
        XCTAssertEqual(SettingsError(file: "/f", line: 3, message: "m").description, "/f:3: m")
        XCTAssertEqual(SettingsError(file: "/f", line: nil, message: "m").description, "/f: m")
    }
}

final class ListenSettingTests: XCTestCase {
    func testListenAddressesOffAndDefault() throws {
        XCTAssertEqual(Settings().server.listen, ListenAddress(host: "127.0.0.1", port: 9732))
        XCTAssertNil(try Settings.parse("[Server]\nListen=off\n", file: "t.conf").server.listen)
        XCTAssertEqual(try Settings.parse("[Server]\nListen=\n", file: "t.conf").server.listen, Settings().server.listen)
        XCTAssertEqual(try Settings.parse("[Server]\nListen=0.0.0.0:0\n", file: "t.conf").server.listen,
                       ListenAddress(host: "0.0.0.0", port: 0))
        let v6 = try Settings.parse("[Server]\nListen=[::1]:9732\n", file: "t.conf").server.listen
        XCTAssertEqual(v6, ListenAddress(host: "::1", port: 9732))
        XCTAssertEqual(v6?.description, "[::1]:9732")
    }

    func testBadListenNamesFileLineAndTheExpectedForm() {
        for bad in ["localhost:9732", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "1.2.3:80", "[::1]9732", "::1:80"] {
            XCTAssertThrowsError(try Settings.parse("[Server]\n\nListen=\(bad)\n", file: "/etc/m.conf"), bad) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("/etc/m.conf:3:"), text)
                XCTAssertTrue(text.contains("Listen"), text)
                XCTAssertTrue(text.contains("an IP address and port"), text)
            }
        }
    }
}
