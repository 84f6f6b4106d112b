import Foundation
import Glibc
import Logging
@testable import MonitorLogging
import SafeText
import SystemdTestKit
import XCTest

final class StderrLogHandlerTests: XCTestCase {
    func testFormatSortsMetadataByKey() {
        let line = StderrLogHandler.format(
            timestamp: nil, level: .warning, message: "etcd unreachable, retrying in 4s",
            metadata: ["node": "worker1", "event": "ALIVE"]
        )
        XCTAssertEqual(line, "warning: etcd unreachable, retrying in 4s event=ALIVE node=worker1")
    }

    func testFormatWithTimestampAndNoMetadata() {
        let line = StderrLogHandler.format(timestamp: "2024-05-01T12:34:56.789Z", level: .info, message: "started", metadata: [:])
        XCTAssertEqual(line, "2024-05-01T12:34:56.789Z info: started")
    }

    func testLineBreaksAreEscaped() {
        let line = StderrLogHandler.format(
            timestamp: nil, level: .error, message: "first\nsecond\r\nthird\n", metadata: ["k\ney": "v"]
        )
        XCTAssertEqual(line, #"error: first\nsecond\r\nthird\n k\ney=v"#)
        XCTAssertFalse(line.contains("\n"))
    }

    func testValuesAreQuotedWhenNeeded() {
        let cases: [(String, String)] = [
            ("plain", "plain"),
            ("two words", #""two words""#),
            ("", #""""#),
            ("tab\there", #""tab\there""#),
            ("esc\u{1b}[2J", #""esc\x1b[2J""#),
            ("a=b", #""a=b""#),
            (#"say "hi""#, #""say \"hi\"""#),
            (#"C:\dir with space"#, #""C:\\dir with space""#),
            (#"no\space"#, #"no\space"#),
            ("line\nbreak", #""line\nbreak""#),
        ]
        for (value, expected) in cases {
            let line = StderrLogHandler.format(timestamp: nil, level: .debug, message: "m", metadata: ["k": value])
            XCTAssertEqual(line, "debug: m k=" + expected, value.debugDescription)
        }
    }

    /// A node name is data: whatever it holds, the record stays one line, no
    /// control character reaches the terminal, and nothing in it reads as a field.
    func testANodeNameCannotForgeARecordOrAField() {
        let name = "n1 event=DEAD node=n2\nwarning: node n3 DEAD\u{1b}]0;title\u{7}"
        let line = StderrLogHandler.format(timestamp: nil, level: .notice, message: "node \(name) ALIVE (first seen)",
                                           metadata: ["event": "ALIVE", "node": "\(name)"])
        XCTAssertEqual(line, #"notice: "node n1 event=DEAD node=n2\nwarning: node n3 DEAD\x1b]0;title\x07 ALIVE (first seen)" "#
                       + #"event=ALIVE node="n1 event=DEAD node=n2\nwarning: node n3 DEAD\x1b]0;title\x07""#)
        XCTAssertFalse(line.unicodeScalars.contains(where: SafeText.needsEscape))
        // Ordinary messages stay bare, comparisons included.
        XCTAssertEqual(StderrLogHandler.format(timestamp: nil, level: .warning, message: "node hot CPU_HIGH (cpu 95.0% >= 90%)",
                                               metadata: [:]), "warning: node hot CPU_HIGH (cpu 95.0% >= 90%)")
    }

    func testTimestampIsUTCWithMilliseconds() {
        XCTAssertEqual(UTCTimestamp(seconds: 0, nanoseconds: 0).description, "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(UTCTimestamp(seconds: 1_714_566_896, nanoseconds: 789_999_999).description, "2024-05-01T12:34:56.789Z")
        XCTAssertEqual(UTCTimestamp(seconds: 951_782_400, nanoseconds: 5_000_000).description, "2000-02-29T00:00:00.005Z")
        let now = UTCTimestamp.now().description
        XCTAssertEqual(now.count, 24, now)
        XCTAssertTrue(now.hasSuffix("Z"), now)
    }

    // MARK: Writing through a pipe

    private func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(errno) }
        addTeardownBlock { close(fds[0]); close(fds[1]) }
        return (fds[0], fds[1])
    }

    /// Reads exactly `count` bytes (the writer keeps the pipe open).
    private func read(_ count: Int, from fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count < count {
            let got = Glibc.read(fd, &buffer, min(buffer.count, count - data.count))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            data += buffer[0..<got]
        }
        return String(decoding: data, as: UTF8.self)
    }

    func testRecordIsWrittenImmediatelyAsOneLine() throws {
        let pipe = try makePipe()
        var logger = Logger(label: "test") { _ in
            StderrLogHandler(logLevel: .info, timestamps: false, fileDescriptor: pipe.write)
        }
        logger[metadataKey: "node"] = "worker1"
        logger.debug("not at this level")
        logger.warning("etcd unreachable", metadata: ["retry_in": "4s"])
        let expected = "warning: etcd unreachable node=worker1 retry_in=4s\n"
        XCTAssertEqual(read(expected.utf8.count, from: pipe.read), expected)
    }

    func testTimestampedRecord() throws {
        let pipe = try makePipe()
        let logger = Logger(label: "test") { _ in StderrLogHandler(fileDescriptor: pipe.write) }
        logger.info("started")
        let line = read(24 + " info: started\n".utf8.count, from: pipe.read)
        XCTAssertTrue(line.hasSuffix("Z info: started\n"), line)
        XCTAssertEqual(line.prefix(2), "20")
    }

    func testConcurrentLongRecordsNeverInterleave() throws {
        let pipe = try makePipe()
        let writers = 4
        let recordsPerWriter = 40
        // Longer than PIPE_BUF (4096): the kernel may split such a write.
        let lines = (0..<writers).map { "error: " + String(repeating: Character(String($0)), count: 6000) }
        let group = DispatchGroup()
        for writer in 0..<writers {
            let thread = Thread {
                let logger = Logger(label: "test") { _ in
                    StderrLogHandler(logLevel: .trace, timestamps: false, fileDescriptor: pipe.write)
                }
                for _ in 0..<recordsPerWriter {
                    logger.error("\(String(repeating: Character(String(writer)), count: 6000))")
                }
                group.leave()
            }
            group.enter()
            thread.start()
        }
        let total = lines.reduce(0) { $0 + ($1.utf8.count + 1) * recordsPerWriter }
        let output = read(total, from: pipe.read)
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        let received = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(received.count, writers * recordsPerWriter)
        XCTAssertTrue(received.allSatisfy { lines.contains(String($0)) }, "a record was split or mixed")
    }
}
