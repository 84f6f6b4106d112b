@testable import FleetModel
import XCTest

/// The registry value `<prefix>/nodes/<node>`: round trip and lenient parsing.
final class FleetViewNodeRecordTests: XCTestCase {
    func testEncodeAndParseRoundTrip() throws {
        let record = NodeRecord(node: "worker1", hostname: "worker1.lan", version: "0.1.0",
                                firstStart: 1_763_719_200, lastStart: 1_763_722_800.5,
                                stopped: true, stoppedAt: 1_763_726_400)
        let text = String(decoding: record.encoded(), as: UTF8.self)
        XCTAssertEqual(text, #"{"first_start":1763719200,"hostname":"worker1.lan","last_start":1763722800.5,"#
                       + #""node":"worker1","stopped":true,"stopped_at":1763726400,"version":"0.1.0"}"#)
        XCTAssertEqual(try NodeRecord.parse(record.encoded()), record)

        let running = NodeRecord(node: "w", hostname: "h", version: "v", firstStart: 1, lastStart: 2)
        XCTAssertFalse(String(decoding: running.encoded(), as: UTF8.self).contains("stopped_at"))
        XCTAssertEqual(try NodeRecord.parse(running.encoded()), running)
    }

    func testLenientParsing() throws {
        // Wrong types and missing fields take zero values; extra fields are ignored.
        let odd = try NodeRecord.parse(Array(#"{"node":5,"hostname":"h","first_start":"x","last_start":-3,"#
                                             .utf8) + Array(#""stopped":1,"stopped_at":true,"future":{}}"#.utf8))
        XCTAssertEqual(odd, NodeRecord(node: "", hostname: "h", version: "", firstStart: 0, lastStart: 0,
                                       stopped: false, stoppedAt: nil))
        XCTAssertEqual(try NodeRecord.parse(Array("{}".utf8)),
                       NodeRecord(node: "", hostname: "", version: "", firstStart: 0, lastStart: 0))
        XCTAssertEqual(try NodeRecord.parse(Array(#"{"stopped":true,"stopped_at":12.5}"#.utf8)).stoppedAt, 12.5)
    }

    func testNotAnObjectIsAnError() {
        for bad in ["", "null", "[]", "\"text\"", "{", "42"] {
            XCTAssertThrowsError(try NodeRecord.parse(Array(bad.utf8)), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("not a JSON object"), "\(error)")
            }
        }
        let huge = Array(repeating: UInt8(ascii: " "), count: NodeRecord.maxValueSize + 1)
        XCTAssertThrowsError(try NodeRecord.parse(huge)) { error in
            XCTAssertEqual("\(error)", "value of 65537 bytes exceeds 65536")
        }
    }

    func testStartAndStopHelpers() {
        let first = NodeRecord.started(node: "w", hostname: "h", version: "0.1.0", at: 100, previous: nil)
        XCTAssertEqual(first, NodeRecord(node: "w", hostname: "h", version: "0.1.0", firstStart: 100, lastStart: 100))
        let stopped = first.stopping(at: 150)
        XCTAssertTrue(stopped.stopped)
        XCTAssertEqual(stopped.stoppedAt, 150)
        let again = NodeRecord.started(node: "w", hostname: "h2", version: "0.2.0", at: 200, previous: stopped)
        XCTAssertEqual(again, NodeRecord(node: "w", hostname: "h2", version: "0.2.0", firstStart: 100, lastStart: 200))
        // A previous record without first_start (unreadable field) starts over.
        let broken = NodeRecord(node: "w", hostname: "", version: "", firstStart: 0, lastStart: 0)
        XCTAssertEqual(NodeRecord.started(node: "w", hostname: "h", version: "v", at: 300, previous: broken).firstStart, 300)
    }
}
