import Concurrency
import Glibc
import Logging
@testable import MonitorLogging
import XCTest

final class JournalEntryTests: XCTestCase {
    private struct LeaseLost: Error, CustomStringConvertible {
        var description: String { "lease 42 expired" }
    }

    private func fieldStrings(_ entry: JournalEntry) -> [String] {
        entry.fields.map(\.description)
    }

    func testPriorityPerLevel() {
        let expected: [(Logger.Level, Int)] = [
            (.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ]
        for (level, priority) in expected {
            XCTAssertEqual(JournalEntry.priority(for: level), priority, "\(level)")
            let entry = JournalEntry(level: level, message: "m", identifier: "id", metadata: [:])
            XCTAssertEqual(entry.fields.first, .init(name: "PRIORITY", value: String(priority)))
        }
    }

    func testFieldsInSendOrder() {
        let entry = JournalEntry(
            level: .warning,
            message: "etcd unreachable, retrying in 4s",
            identifier: "monitor-agentd",
            metadata: ["node": "worker1", "event": "ALIVE", "error.type": "Timeout"]
        )
        XCTAssertEqual(fieldStrings(entry), [
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=monitor-agentd",
            "MESSAGE=etcd unreachable, retrying in 4s",
            "ERROR_TYPE=Timeout",
            "EVENT=ALIVE",
            "NODE=worker1",
        ])
    }

    func testEmptyIdentifierIsOmitted() {
        let entry = JournalEntry(level: .info, message: "m", identifier: "", metadata: [:])
        XCTAssertEqual(fieldStrings(entry), ["PRIORITY=6", "MESSAGE=m"])
    }

    func testUnmappableAndReservedKeysAreDropped() {
        let entry = JournalEntry(
            level: .info, message: "real", identifier: "id",
            metadata: ["日本": "x", "message": "fake", "priority": "debug", "__": "y", "ok": "1"]
        )
        XCTAssertEqual(fieldStrings(entry), ["PRIORITY=6", "SYSLOG_IDENTIFIER=id", "MESSAGE=real", "OK=1"])
    }

    func testCollidingKeysKeepTheLastSortedKey() {
        // "a.b" < "a_b" in byte order, so "a_b" wins whatever the dictionary order.
        let entry = JournalEntry(level: .info, message: "m", identifier: "", metadata: ["a_b": "2", "a.b": "1"])
        XCTAssertEqual(fieldStrings(entry), ["PRIORITY=6", "MESSAGE=m", "A_B=2"])
    }

    func testMessageIDMustBe32LowercaseHex() {
        let valid = "fc2e22bc6ee647b6b90729ab34a250b1"
        XCTAssertTrue(JournalEntry.isValidMessageID(valid))
        let kept = JournalEntry(level: .info, message: "m", identifier: "", metadata: ["message_id": valid])
        XCTAssertEqual(kept.fields.last, .init(name: "MESSAGE_ID", value: valid))

        for invalid in [
            valid.uppercased(), String(valid.dropLast()), valid + "0",
            "fc2e22bc-6ee6-47b6-b907-29ab34a250b1", "gc2e22bc6ee647b6b90729ab34a250b1", "",
        ] {
            XCTAssertFalse(JournalEntry.isValidMessageID(invalid), invalid)
            let entry = JournalEntry(level: .info, message: "m", identifier: "", metadata: ["message_id": invalid])
            XCTAssertEqual(fieldStrings(entry), ["PRIORITY=6", "MESSAGE=m"], invalid)
        }
    }

    func testIOVecsPointAtEachField() {
        let entry = JournalEntry(
            level: .error, message: "two\nlines", identifier: "monitor-serverd",
            metadata: ["node": "wörker-1", "empty": ""]
        )
        let sent: [String] = entry.withIOVecs { iovecs in
            iovecs.map { vec in
                String(decoding: UnsafeRawBufferPointer(start: vec.iov_base, count: vec.iov_len), as: UTF8.self)
            }
        }
        XCTAssertEqual(sent, [
            "PRIORITY=3", "SYSLOG_IDENTIFIER=monitor-serverd", "MESSAGE=two\nlines", "EMPTY=", "NODE=wörker-1",
        ])
    }

    func testSendWithoutJournaldDoesNotFail() throws {
        // libsystemd drops the record silently when there is no journald; with
        // one it is simply logged. Either way nothing is thrown.
        let entry = JournalEntry(level: .debug, message: "SystemdSupportTests send", identifier: "monitor-tests", metadata: [:])
        XCTAssertNoThrow(try entry.send())
    }

    func testHandlerMergesMetadataInDocumentedOrder() {
        let provider = Logger.MetadataProvider { ["source": "provider", "trace": "t1"] }
        var handler = JournalLogHandler(identifier: "monitor-agentd", logLevel: .info, metadataProvider: provider)
        handler[metadataKey: "source"] = "handler"
        handler[metadataKey: "node"] = "worker1"
        handler[metadataKey: "trace"] = "handler"
        let event = LogEvent(
            level: .notice, message: "lease granted", error: LeaseLost(),
            metadata: ["trace": "call", "ttl": .stringConvertible(5), "peers": ["a", "b"]],
            source: nil, file: "MonitorAgent/LeaseSession.swift", function: "grant(ttl:)", line: 42
        )
        XCTAssertEqual(fieldStrings(handler.entry(for: event)), [
            "PRIORITY=5",
            "SYSLOG_IDENTIFIER=monitor-agentd",
            "MESSAGE=lease granted",
            "CODE_FILE=MonitorAgent/LeaseSession.swift",
            "CODE_LINE=42",
            "CODE_FUNC=grant(ttl:)",
            "ERROR_MESSAGE=lease 42 expired",
            "ERROR_TYPE=\(String(reflecting: LeaseLost.self))",
            "NODE=worker1",
            "PEERS=\(Logger.MetadataValue.array(["a", "b"]).description)",
            "SOURCE=provider",
            "TRACE=call",
            "TTL=5",
        ])
    }

    func testCodeFieldsFollowMessageAndMetadataCannotReplaceThem() {
        let entry = JournalEntry(
            level: .info, message: "m", identifier: "id",
            metadata: ["code_file": "fake.swift", "code.line": "1", "CODE_FUNC": "fake()", "node": "w1"],
            code: .init(file: "MonitorServer/ServerDaemon.swift", function: "log(_:now:)", line: 207)
        )
        XCTAssertEqual(fieldStrings(entry), [
            "PRIORITY=6", "SYSLOG_IDENTIFIER=id", "MESSAGE=m",
            "CODE_FILE=MonitorServer/ServerDaemon.swift", "CODE_LINE=207", "CODE_FUNC=log(_:now:)", "NODE=w1",
        ])
    }

    /// A real Logger call: swift-log passes the call's #fileID, #function and #line
    /// through to the handler, and the record carries them.
    func testLoggerCallSiteBecomesCodeFields() throws {
        let events = Locked<[LogEvent]>([])
        let logger = Logger(label: "test") { _ in EventCapture(events: events) }
        let line = #line + 1
        logger.notice("lease granted", metadata: ["node": "worker1"])
        let event = try XCTUnwrap(events.withLock { $0 }.first)
        let entry = JournalLogHandler(identifier: "monitor-tests").entry(for: event)
        XCTAssertEqual(fieldStrings(entry), [
            "PRIORITY=5", "SYSLOG_IDENTIFIER=monitor-tests", "MESSAGE=lease granted",
            "CODE_FILE=MonitorLoggingTests/JournalEntryTests.swift", "CODE_LINE=\(line)",
            "CODE_FUNC=testLoggerCallSiteBecomesCodeFields()", "NODE=worker1",
        ])
    }

    func testHandlerLevelIsAdjustable() {
        var logger = Logger(label: "test") { _ in JournalLogHandler(identifier: "monitor-tests", logLevel: .warning) }
        XCTAssertEqual(logger.logLevel, .warning)
        logger.logLevel = .debug
        XCTAssertEqual(logger.logLevel, .debug)
        XCTAssertEqual((logger.handler as? JournalLogHandler)?.logLevel, .debug)
    }
}

/// Keeps the events a real Logger hands its handler, so a test can turn them into
/// journal records with ``JournalLogHandler/entry(for:)`` instead of sending them.
private struct EventCapture: LogHandler {
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    let events: Locked<[LogEvent]>

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { events.withLock { $0.append(event) } }
}
