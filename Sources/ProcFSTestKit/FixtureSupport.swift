import Foundation


/// Access to the captured /proc files under Fixtures/ (copied as a resource folder).
public enum Fixtures {
    public static var root: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    }

    public static func path(_ relative: String) -> String {
        root + "/" + relative
    }

    public static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }
}

/// A proc root in a temporary directory whose files a test rewrites between rounds,
/// to drive counters forward, backwards, or away. Removed on deinit.
public final class ScratchProc {
    public let root: String

    public init() throws {
        root = NSTemporaryDirectory() + "metrics-proc-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/net", withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    public func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: root + "/" + relative, atomically: true, encoding: .utf8)
    }

    public func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + relative)
    }

    /// /proc/stat with only the lines that matter, in the 5.x layout.
    public func writeStat(busy user: UInt64, idle: UInt64) throws {
        try write("stat", "cpu  \(user) 0 0 \(idle) 0 0 0 0 0 0\ncpu0 \(user) 0 0 \(idle) 0 0 0 0 0 0\nctxt 1\n")
    }

    public func writeMeminfo(totalKB: UInt64, availableKB: UInt64) throws {
        try write("meminfo", "MemTotal: \(totalKB) kB\nMemFree: 1 kB\nMemAvailable: \(availableKB) kB\n")
    }

    /// /proc/diskstats in the 5.5+ 20-field layout; devices as (name, sectors read,
    /// sectors written).
    public func writeDiskstats(_ devices: [(String, UInt64, UInt64)]) throws {
        let lines = devices.enumerated().map { index, device in
            "   8       \(index) \(device.0) 10 0 \(device.1) 5 20 0 \(device.2) 7 0 9 12 0 0 0 0 0 0"
        }
        try write("diskstats", lines.joined(separator: "\n") + "\n")
    }

    /// /proc/net/dev; interfaces as (name, bytes received, bytes transmitted).
    public func writeNetDev(_ interfaces: [(String, UInt64, UInt64)]) throws {
        var text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed

            """
        for (name, received, transmitted) in interfaces {
            text += "\(name): \(received) 1 0 0 0 0 0 0 \(transmitted) 1 0 0 0 0 0 0\n"
        }
        try write("net/dev", text)
    }
}

/// A clock the test moves by hand, so rates are exact.
public final class FakeClock {
    public init() {}
    public var now: Double = 1000

    public var function: () -> Double {
        { [unowned self] in self.now }
    }
}
