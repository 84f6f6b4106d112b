/// Decides from a /proc/diskstats device name alone whether the device's I/O counts
/// towards "disk read" and "disk write".
///
/// The goal is each byte that reaches hardware counted once, so only whole physical
/// disks count:
///
/// 1. Not counted: devices that are not disks or are stacked on other disks, by
///    name prefix: `loop` (files), `ram`, `zram` (memory), `fd` (floppy), `sr` (optical),
///    `dm-` (LVM, dm-crypt, multipath) and `md` (software RAID). A stacked device's I/O
///    also reaches the disks beneath it, so counting it would count bytes twice.
/// 2. Not counted: partitions, whose I/O is already in their disk's line:
///    - `<stem><digit>p<digits>`: nvme0n1p1, mmcblk0p1 (and nbd0p1, loop0p1, pmem0p1);
///    - `sd`, `hd`, `vd`, `xvd` + letters + digits: sda1, sdaa12, hda1, vdb2, xvda1.
/// 3. Everything else is a whole disk: sda, sdaa, vda, xvda, nvme0n1, mmcblk0, and
///    unknown kinds (nbd0, rbd0, pmem0), since leaving out a real disk is worse than
///    counting an unusual one.
///
/// Why the name: /sys/block/<dev>/partition would say so exactly, but costs extra
/// file reads per device per round and is absent from captured fixtures; the kernel's
/// naming conventions above have been stable since 2.6.
public enum BlockDeviceName {
    private static let excludedPrefixes = ["loop", "ram", "zram", "fd", "sr", "dm-", "md"]
    private static let lettersThenPartitionPrefixes = ["sd", "hd", "vd", "xvd"]

    public static func isCountedWholeDisk(_ name: String) -> Bool {
        for prefix in excludedPrefixes where name.hasPrefix(prefix) {
            return false
        }
        return !isPartition(name)
    }

    /// True for names that follow a partition naming convention (rule 2).
    public static func isPartition(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        var stemEnd = bytes.count
        while stemEnd > 0, isDigit(bytes[stemEnd - 1]) {
            stemEnd -= 1
        }
        // Every partition name ends in its number, so "sda" or "xvdb" is a disk;
        // a trailing number alone proves nothing ("nvme0n1", "mmcblk0"): the two
        // conventions below decide.
        guard stemEnd < bytes.count, stemEnd > 0 else {
            return false
        }
        if stemEnd >= 2, bytes[stemEnd - 1] == UInt8(ascii: "p"), isDigit(bytes[stemEnd - 2]) {
            return true
        }
        for prefix in lettersThenPartitionPrefixes where name.hasPrefix(prefix) {
            let letters = bytes[prefix.utf8.count..<stemEnd]
            return !letters.isEmpty && letters.allSatisfy(isLowercaseLetter)
        }
        return false
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isLowercaseLetter(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
    }
}
