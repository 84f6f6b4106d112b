import Foundation
import Glibc
import LoggingTestKit
import MonitorLogging
import XCTest

/// Sends through the real journald and reads the record back with journalctl.
/// Runs only where journald listens; build containers usually have none.
final class JournaldIntegrationTests: XCTestCase {
    func testRecordArrivesWithItsFields() throws {
        guard access(LogSink.defaultJournalSocketPath, W_OK) == 0 else {
            throw XCTSkip("journald is not running here (\(LogSink.defaultJournalSocketPath) is missing or not writable); the fields sent are covered by JournalEntryTests")
        }
        let marker = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let entry = JournalEntry(
            level: .warning, message: "journald round trip", identifier: "monitor-tests",
            metadata: ["monitor_test_marker": marker, "node": "worker1"]
        )
        try entry.send()

        let deadline = Date().addingTimeInterval(5)
        var output = ""
        repeat {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
            process.arguments = ["--output=json", "--no-pager", "MONITOR_TEST_MARKER=\(marker)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if !output.isEmpty { break }
            usleep(100_000)
        } while Date() < deadline

        let line = try XCTUnwrap(output.split(separator: "\n").first, "record never showed up in journalctl")
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(record["MESSAGE"] as? String, "journald round trip")
        XCTAssertEqual(record["PRIORITY"] as? String, "4")
        XCTAssertEqual(record["SYSLOG_IDENTIFIER"] as? String, "monitor-tests")
        XCTAssertEqual(record["NODE"] as? String, "worker1")
    }
}
