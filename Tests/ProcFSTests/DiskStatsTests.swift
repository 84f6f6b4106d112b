@testable import ProcFS
import ProcFSTestKit
import XCTest

final class DiskStatsTests: XCTestCase {
    func testRealKernel618TwentyFields() throws {
        let stats = try DiskStats.parse(Fixtures.text("proc-6.18-vm/diskstats"))
        XCTAssertEqual(stats.devices.count, 10)
        let vda = try XCTUnwrap(stats.devices.first { $0.name == "vda" })
        XCTAssertEqual(vda, DiskStats.Device(
            major: 254, minor: 0, name: "vda", readsCompleted: 29870, sectorsRead: 2834106,
            writesCompleted: 8609, sectorsWritten: 837160, fieldCount: 20))
        XCTAssertEqual(vda.bytesRead, 2834106 * 512)
        XCTAssertEqual(vda.bytesWritten, 837160 * 512)
        XCTAssertEqual(counted(stats), ["vda"])
    }

    func testKernel4_19EighteenFields() throws {
        let stats = try DiskStats.parse(Fixtures.text("proc-4.19/diskstats"))
        XCTAssertEqual(Set(stats.devices.map(\.fieldCount)), [18])
        let nvme = try XCTUnwrap(stats.devices.first { $0.name == "nvme0n1" })
        XCTAssertEqual(nvme.sectorsRead, 14105294)
        XCTAssertEqual(nvme.sectorsWritten, 41251840)
        XCTAssertEqual(counted(stats), ["sda", "nvme0n1"])
    }

    func testKernel4_4FourteenFields() throws {
        let stats = try DiskStats.parse(Fixtures.text("proc-4.4/diskstats"))
        XCTAssertEqual(Set(stats.devices.map(\.fieldCount)), [14])
        XCTAssertEqual(stats.devices.map(\.name), [
            "loop0", "loop1", "sda", "sda1", "nvme0n1", "nvme0n1p1", "nvme0n1p2", "dm-0",
            "mmcblk0", "mmcblk0p1",
        ])
        let sda = stats.devices[2]
        XCTAssertEqual(sda.readsCompleted, 22018)
        XCTAssertEqual(sda.sectorsRead, 1200114)
        XCTAssertEqual(sda.writesCompleted, 19224)
        XCTAssertEqual(sda.sectorsWritten, 1587064)
        // Not loop (files), not dm-0 (stacked on nvme0n1p2), no partitions.
        XCTAssertEqual(counted(stats), ["sda", "nvme0n1", "mmcblk0"])
    }

    func testKernel2_6_18SevenFieldPartitionLines() throws {
        let stats = try DiskStats.parse(Fixtures.text("proc-2.6.18/diskstats"))
        let sda1 = try XCTUnwrap(stats.devices.first { $0.name == "sda1" })
        XCTAssertEqual(sda1, DiskStats.Device(
            major: 8, minor: 1, name: "sda1", readsCompleted: 101895, sectorsRead: 2614218,
            writesCompleted: 238564, sectorsWritten: 1908456, fieldCount: 7))
        let hda = try XCTUnwrap(stats.devices.first { $0.name == "hda" })
        XCTAssertEqual(hda.sectorsRead, 9550688)
        XCTAssertEqual(hda.sectorsWritten, 5922052)
        XCTAssertEqual(hda.fieldCount, 14)
        // Not ram, loop, md, dm, fd; not hda1, hda2, sda1.
        XCTAssertEqual(counted(stats), ["hda", "sda"])
    }

    func testEmptyFileHasNoDevices() throws {
        XCTAssertEqual(try DiskStats.parse(Fixtures.text("variants/diskstats-empty")).devices, [])
    }

    func testMalformedFiles() {
        let parse = { (text: String, file: String) in try DiskStats.parse(text, file: file) }
        assertParseError("malformed/diskstats-short-line", line: 2, contains: "found 8", parse: parse)
        assertParseError("malformed/diskstats-non-numeric", line: 2, contains: "field 13", parse: parse)
    }

    private func counted(_ stats: DiskStats) -> [String] {
        stats.devices.filter(\.isCountedWholeDisk).map(\.name)
    }
}
