import LoggingTestKit
import MonitorLogging
import XCTest

final class JournalFieldNameTests: XCTestCase {
    func testMappingTable() {
        let table: [(key: String, field: String?)] = [
            ("node", "NODE"),
            ("Event", "EVENT"),
            ("message_id", "MESSAGE_ID"),
            ("MESSAGE_ID", "MESSAGE_ID"),
            ("error.type", "ERROR_TYPE"),
            ("http-status", "HTTP_STATUS"),
            ("a b", "A_B"),
            ("lease_ttl_s", "LEASE_TTL_S"),
            ("ipv6", "IPV6"),
            ("SYSLOG_FACILITY", "SYSLOG_FACILITY"),
            ("errno", "ERRNO"),
            ("café", "CAF_"),
            // Leading digits and underscores are dropped, not prefixed.
            ("_pid", "PID"),
            ("__systemd_unit", "SYSTEMD_UNIT"),
            ("2xx", "XX"),
            ("9_lives", "LIVES"),
            (".hidden", "HIDDEN"),
            // Nothing valid remains.
            ("", nil),
            ("_", nil),
            ("__", nil),
            ("123", nil),
            ("日本", nil),
            ("-.-", nil),
            // Fields the journal handler sets itself.
            ("message", nil),
            ("priority", nil),
            ("syslog_identifier", nil),
            ("Syslog-Identifier", nil),
            ("code_file", nil),
            ("code.line", nil),
            ("CODE_FUNC", nil),
            // Cut to 64 characters, after dropping the leading ones.
            (String(repeating: "x", count: 70), String(repeating: "X", count: 64)),
            ("_" + String(repeating: "a", count: 70), String(repeating: "A", count: 64)),
            (String(repeating: "b", count: 64), String(repeating: "B", count: 64)),
        ]
        for (key, expected) in table {
            let field = JournalFieldName.make(fromMetadataKey: key)
            XCTAssertEqual(field, expected, "key \(key.debugDescription)")
            if let field {
                XCTAssertTrue(JournalFieldName.isValid(field), "\(field) from \(key.debugDescription)")
            }
        }
    }

    func testValidity() {
        for valid in ["A", "NODE", "MESSAGE_ID", "A1", "X_", String(repeating: "Z", count: 64)] {
            XCTAssertTrue(JournalFieldName.isValid(valid), valid)
        }
        for invalid in ["", "_A", "1A", "node", "A-B", "A B", "É", String(repeating: "Z", count: 65)] {
            XCTAssertFalse(JournalFieldName.isValid(invalid), invalid)
        }
    }
}
