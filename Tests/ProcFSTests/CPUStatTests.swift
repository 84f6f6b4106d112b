@testable import ProcFS
import ProcFSTestKit
import XCTest

final class CPUStatTests: XCTestCase {
    func testRealKernel618() throws {
        let stat = try CPUStat.parse(Fixtures.text("proc-6.18-vm/stat"))
        XCTAssertEqual(stat, CPUStat(
            user: 6007, nice: 0, system: 2588, idle: 36585, iowait: 754, irq: 0, softirq: 33,
            steal: 12, guest: 0, guestNice: 0, columns: 10))
        XCTAssertEqual(stat.busyTicks, 6007 + 2588 + 33 + 12)
        XCTAssertEqual(stat.idleTicks, 36585 + 754)
        XCTAssertEqual(stat.totalTicks, stat.busyTicks + stat.idleTicks)
    }

    func testKernel4_4TenColumns() throws {
        let stat = try CPUStat.parse(Fixtures.text("proc-4.4/stat"))
        XCTAssertEqual(stat.columns, 10)
        XCTAssertEqual(stat.user, 1393280)
        XCTAssertEqual(stat.softirq, 17875)
    }

    func testKernel2_6_18EightColumnsHasNoGuest() throws {
        let stat = try CPUStat.parse(Fixtures.text("proc-2.6.18/stat"))
        XCTAssertEqual(stat, CPUStat(
            user: 2255, nice: 34, system: 2290, idle: 22625563, iowait: 6290, irq: 127,
            softirq: 456, steal: 0, columns: 8))
    }

    func testKernel2_6_24NineColumns() throws {
        let stat = try CPUStat.parse(Fixtures.text("variants/stat-2.6.24"))
        XCTAssertEqual(stat.columns, 9)
        XCTAssertEqual(stat.iowait, 24612)
        XCTAssertEqual(stat.guestNice, 0)
    }

    func testKernel2_6_0SevenColumns() throws {
        let stat = try CPUStat.parse(Fixtures.text("variants/stat-2.6.0"))
        XCTAssertEqual(stat.columns, 7)
        XCTAssertEqual(stat.softirq, 456)
        XCTAssertEqual(stat.steal, 0)
    }

    func testKernel2_4FourColumnsHasNoIowait() throws {
        let stat = try CPUStat.parse(Fixtures.text("variants/stat-2.4"))
        XCTAssertEqual(stat, CPUStat(user: 1029, nice: 0, system: 1296, idle: 64728, columns: 4))
        XCTAssertEqual(stat.busyTicks, 2325)
        XCTAssertEqual(stat.idleTicks, 64728)
    }

    func testGuestTimeIsNotCountedTwice() throws {
        let stat = try CPUStat.parse(Fixtures.text("variants/stat-guest"))
        XCTAssertEqual(stat.guest, 4000)
        XCTAssertEqual(stat.guestNice, 1000)
        // user+nice+system+irq+softirq+steal; guest already inside user and nice.
        XCTAssertEqual(stat.busyTicks, 10000 + 2000 + 3000 + 100 + 200 + 300)
        XCTAssertEqual(stat.totalTicks, 96100)
        XCTAssertEqual(stat.busyPercent(since: CPUStat(columns: 10)), 15600.0 / 96100 * 100, accuracy: 1e-9)
    }

    func testExtraColumnsOfFutureKernelsAreIgnored() throws {
        let stat = try CPUStat.parse(Fixtures.text("variants/stat-11-columns"))
        XCTAssertEqual(stat.columns, 11)
        XCTAssertEqual(stat.guestNice, 10)
    }

    func testMalformedFiles() {
        let parse = { (text: String, file: String) in try CPUStat.parse(text, file: file) }
        assertParseError("malformed/stat-3-columns", line: 1, contains: "at least 4 columns after \"cpu\", found 3", parse: parse)
        assertParseError("malformed/stat-non-numeric", line: 1, contains: "column 3 is not a counter: \"12x96\"", parse: parse)
        assertParseError("malformed/stat-negative", line: 1, contains: "column 4", parse: parse)
        assertParseError("malformed/stat-overflow", line: 1, contains: "column 1", parse: parse)
        assertParseError("malformed/stat-no-cpu-line", line: nil, contains: "no aggregate", parse: parse)
        assertParseError("malformed/stat-empty", line: nil, contains: "no aggregate", parse: parse)
    }

    func testParseErrorCarriesTheOffendingLine() {
        XCTAssertThrowsError(try CPUStat.parse("cpu  1029 0 1296\ncpu0 1 2 3 4\n")) { error in
            XCTAssertEqual(error as? ProcParseError, ProcParseError(
                file: "/proc/stat", line: 1, text: "cpu  1029 0 1296",
                message: "expected at least 4 columns after \"cpu\", found 3"))
        }
    }

    func testErrorDescriptionIsOneLogLine() {
        let error = ProcParseError(file: "/proc/stat", line: 1, text: "cpu  1 2", message: "expected at least 4 columns")
        XCTAssertEqual(error.description, "/proc/stat:1: expected at least 4 columns: \"cpu  1 2\"")
        XCTAssertEqual(
            ProcParseError(file: "/proc/stat", line: nil, message: "no aggregate \"cpu\" line").description,
            "/proc/stat: no aggregate \"cpu\" line")
        let long = ProcParseError(file: "f", line: 1, text: String(repeating: "x", count: 10_000), message: "m")
        XCTAssertEqual(long.text.count, ProcParseError.maxTextLength)
    }
}
