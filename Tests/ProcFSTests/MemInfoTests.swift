@testable import ProcFS
import ProcFSTestKit
import XCTest

final class MemInfoTests: XCTestCase {
    func testRealKernel618UsesMemAvailable() throws {
        let info = try MemInfo.parse(Fixtures.text("proc-6.18-vm/meminfo"))
        XCTAssertEqual(info.totalBytes, 24684084 * 1024)
        XCTAssertEqual(info.availableBytes, 24216476 * 1024)
        XCTAssertTrue(info.hasMemAvailable)
        XCTAssertEqual(info.usedPercent, Double(24684084 - 24216476) / 24684084 * 100, accuracy: 1e-9)
    }

    func testKernel4_4() throws {
        let info = try MemInfo.parse(Fixtures.text("proc-4.4/meminfo"))
        XCTAssertEqual(info, MemInfo(totalBytes: 8056920 * 1024, availableBytes: 5170824 * 1024))
    }

    func testKernel2_6_18WithoutMemAvailableFallsBackToFreeBuffersCached() throws {
        let info = try MemInfo.parse(Fixtures.text("proc-2.6.18/meminfo"))
        XCTAssertFalse(info.hasMemAvailable)
        XCTAssertEqual(info.totalBytes, 2059096 * 1024)
        XCTAssertEqual(info.availableBytes, (104244 + 179472 + 1446668) * 1024)
        XCTAssertEqual(info.usedPercent, Double(2059096 - 1730384) / 2059096 * 100, accuracy: 1e-9)
    }

    func testUsedPercentStaysWithinRange() {
        XCTAssertEqual(MemInfo(totalBytes: 100, availableBytes: 150).usedPercent, 0)
        XCTAssertEqual(MemInfo(totalBytes: 100, availableBytes: 0).usedPercent, 100)
        XCTAssertEqual(MemInfo(totalBytes: 0, availableBytes: 0).usedPercent, 0)
    }

    func testMalformedFiles() {
        let parse = { (text: String, file: String) in try MemInfo.parse(text, file: file) }
        assertParseError("malformed/meminfo-no-memtotal", line: nil, contains: "no MemTotal", parse: parse)
        assertParseError("malformed/meminfo-bad-value", line: 2, contains: "\"10x4244\"", parse: parse)
        assertParseError("malformed/meminfo-no-colon", line: 2, contains: "Key: value", parse: parse)
        assertParseError("malformed/meminfo-no-value", line: 1, contains: "Key: value", parse: parse)
        assertParseError("malformed/meminfo-no-fallback", line: nil, contains: "no MemAvailable", parse: parse)
        assertParseError("malformed/meminfo-zero-total", line: 1, contains: "MemTotal is 0", parse: parse)
        assertParseError("malformed/meminfo-bad-unit", line: 1, contains: "unknown unit \"MB\"", parse: parse)
    }
}
