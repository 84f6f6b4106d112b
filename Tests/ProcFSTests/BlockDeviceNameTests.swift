@testable import ProcFS
import XCTest

final class BlockDeviceNameTests: XCTestCase {
    func testWholeDisksCount() {
        for name in ["sda", "sdb", "sdaa", "hda", "vda", "vdb", "xvda", "xvdf", "nvme0n1",
                     "nvme10n2", "mmcblk0", "mmcblk1", "nbd0", "rbd0", "pmem0"] {
            XCTAssertTrue(BlockDeviceName.isCountedWholeDisk(name), name)
        }
    }

    func testPartitionsDoNotCount() {
        for name in ["sda1", "sdb15", "sdaa12", "hda1", "vda2", "xvda1", "nvme0n1p1",
                     "nvme10n2p13", "mmcblk0p1", "mmcblk1p2", "nbd0p1", "pmem0p1"] {
            XCTAssertTrue(BlockDeviceName.isPartition(name), name)
            XCTAssertFalse(BlockDeviceName.isCountedWholeDisk(name), name)
        }
    }

    func testVirtualAndStackedDevicesDoNotCount() {
        for name in ["loop0", "loop12", "ram0", "ram15", "zram0", "fd0", "sr0", "dm-0", "dm-12",
                     "md0", "md127", "loop0p1"] {
            XCTAssertFalse(BlockDeviceName.isCountedWholeDisk(name), name)
        }
    }

    func testNamesThatOnlyLookNumbered() {
        // Trailing digits alone do not make a partition.
        for name in ["nvme0n1", "mmcblk0", "sd1", "zram0", "1"] {
            XCTAssertFalse(BlockDeviceName.isPartition(name), name)
        }
    }
}
