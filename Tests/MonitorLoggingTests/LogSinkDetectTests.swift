import Glibc
@testable import MonitorLogging
import SystemdTestKit
import XCTest

/// The log sink choice from the environment (saved and restored around each
/// test by `EnvironmentTestCase`).
final class LogSinkDetectTests: EnvironmentTestCase {

    /// `JOURNAL_STREAM` for fd 2, with the inode shifted by `inodeOffset`.
    private func journalStream(inodeOffset: UInt64 = 0) throws -> String {
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { throw POSIXError(errno) }
        return "\(UInt64(info.st_dev)):\(UInt64(info.st_ino) + inodeOffset)"
    }

    /// A writable file standing in for journald's socket (only W_OK is checked).
    private func writableSocketPath() throws -> String {
        var template = Array("/tmp/journal-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw POSIXError(errno) }
        Glibc.close(fd)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        cleanups.append { unlink(path) }
        return path
    }

    private let missingSocketPath = "/tmp/journal-test-missing/socket"

    func testJournalWhenStderrIsJournalStreamAndSocketWritable() throws {
        setenv("JOURNAL_STREAM", try journalStream(), 1)
        XCTAssertTrue(LogSink.stderrIsJournalStream())
        XCTAssertEqual(LogSink.detect(journalSocketPath: try writableSocketPath()), .journal)
    }

    func testJournalStreamWithoutSocketLogsPlainLinesWithoutTimestamps() throws {
        setenv("JOURNAL_STREAM", try journalStream(), 1)
        XCTAssertEqual(LogSink.detect(journalSocketPath: missingSocketPath), .stderr(timestamps: false))
    }

    func testStderrWhenJournalStreamNamesAnotherFile() throws {
        setenv("JOURNAL_STREAM", try journalStream(inodeOffset: 1), 1)
        XCTAssertFalse(LogSink.stderrIsJournalStream())
        XCTAssertEqual(LogSink.detect(journalSocketPath: try writableSocketPath()), .stderr(timestamps: true))
    }

    func testStderrWithoutOrWithMalformedJournalStream() throws {
        let socketPath = try writableSocketPath()
        XCTAssertEqual(LogSink.detect(journalSocketPath: socketPath), .stderr(timestamps: true))
        for malformed in ["", "12", "a:b", "1:2:3", ":"] {
            setenv("JOURNAL_STREAM", malformed, 1)
            XCTAssertEqual(LogSink.detect(journalSocketPath: socketPath), .stderr(timestamps: true), malformed)
        }
    }

    func testOverrideForcesSink() throws {
        setenv("MONITOR_LOG", "journal", 1)
        XCTAssertEqual(LogSink.detect(journalSocketPath: missingSocketPath), .journal)
        XCTAssertNil(LogSink.unrecognizedOverride())

        setenv("JOURNAL_STREAM", try journalStream(), 1)
        setenv("MONITOR_LOG", "STDERR", 1)
        XCTAssertEqual(LogSink.detect(journalSocketPath: try writableSocketPath()), .stderr(timestamps: false))

        unsetenv("JOURNAL_STREAM")
        XCTAssertEqual(LogSink.detect(journalSocketPath: missingSocketPath), .stderr(timestamps: true))
    }

    func testUnrecognizedOverrideIsIgnored() throws {
        setenv("MONITOR_LOG", "syslog", 1)
        setenv("JOURNAL_STREAM", try journalStream(), 1)
        XCTAssertEqual(LogSink.detect(journalSocketPath: try writableSocketPath()), .journal)
        XCTAssertEqual(LogSink.unrecognizedOverride(), "syslog")
    }
}
