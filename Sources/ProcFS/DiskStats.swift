/// The per-device I/O counters of /proc/diskstats, one entry per line.
///
/// Line layouts, after `major minor name`:
/// - 11 counters (14 fields), 2.6.25 to 4.17; also whole disks on 2.6.0 to 2.6.24;
/// - 15 (18 fields) from 4.18, adding discard counters;
/// - 17 (20 fields) from 5.5, adding flush counters;
/// - 4 (7 fields) for partitions on 2.6.0 to 2.6.24: reads, sectors read, writes,
///   sectors written.
///
/// Longer lines from future kernels are accepted: fields are only ever appended.
public struct DiskStats: Equatable, Sendable {
    /// One line of /proc/diskstats.
    public struct Device: Equatable, Sendable {
        public var major: UInt32
        public var minor: UInt32
        public var name: String
        public var readsCompleted: UInt64
        public var sectorsRead: UInt64
        public var writesCompleted: UInt64
        public var sectorsWritten: UInt64
        /// Fields on the line, name and numbers included: 7, 14, 18, 20 or more.
        public var fieldCount: Int

        public init(
            major: UInt32, minor: UInt32, name: String,
            readsCompleted: UInt64 = 0, sectorsRead: UInt64, writesCompleted: UInt64 = 0,
            sectorsWritten: UInt64, fieldCount: Int = 20
        ) {
            self.major = major
            self.minor = minor
            self.name = name
            self.readsCompleted = readsCompleted
            self.sectorsRead = sectorsRead
            self.writesCompleted = writesCompleted
            self.sectorsWritten = sectorsWritten
            self.fieldCount = fieldCount
        }

        /// diskstats sectors are 512 bytes whatever the device's own sector size
        /// (the block layer counts in 512-byte units). Wrapping multiply: a counter
        /// this large is garbage, and garbage must not trap the agent.
        public var bytesRead: UInt64 { sectorsRead &* 512 }
        public var bytesWritten: UInt64 { sectorsWritten &* 512 }

        /// Whether this device counts towards the disk metrics (`BlockDeviceName`).
        public var isCountedWholeDisk: Bool { BlockDeviceName.isCountedWholeDisk(name) }
    }

    public var devices: [Device]

    public init(devices: [Device]) {
        self.devices = devices
    }

    /// Parses the text of /proc/diskstats. An empty file (no block devices, as in
    /// some containers) is valid and has no devices. Throws `ProcParseError`.
    public static func parse(_ text: String, file: String = "/proc/diskstats") throws -> DiskStats {
        var devices: [Device] = []
        // Reused for every line: one allocation per parse, not per line.
        var values: [UInt64] = []
        values.reserveCapacity(24)
        try ProcText.withLines(text) { lines in
            while var line = lines.next() {
                if !line.isBlank {
                    devices.append(try parseLine(&line, values: &values, file: file))
                }
            }
        }
        return DiskStats(devices: devices)
    }

    private static func parseLine(_ line: inout ProcLine, values: inout [UInt64], file: String) throws -> Device {
        let whole = line  // for error reports; its text is only built on failure
        func failure(_ message: String) -> ProcParseError {
            ProcParseError(file: file, line: whole.number, text: whole.text, message: message)
        }
        // Every counter is checked, not only the four kept: a line damaged anywhere
        // is reported rather than half-trusted.
        values.removeAll(keepingCapacity: true)
        var name: ProcField?
        while let field = line.nextField() {
            if values.count == 2 && name == nil {
                name = field
                continue
            }
            guard let value = field.uint64 else {
                let position = values.count + (name == nil ? 1 : 2)
                throw failure("field \(position) is not a counter: \"\(field.string)\"")
            }
            values.append(value)
        }
        let fieldCount = values.count + (name == nil ? 0 : 1)
        // Positions of (reads, sectors read, writes, sectors written) among the
        // numbers (name left out), by layout.
        let columns: (Int, Int, Int, Int)
        switch fieldCount {
        case 7: columns = (2, 3, 4, 5)
        case 14...: columns = (2, 4, 6, 8)
        default: throw failure("expected 7 or at least 14 fields, found \(fieldCount)")
        }
        guard values[0] <= UInt32.max, values[1] <= UInt32.max, let name else {
            throw failure("device number out of range")
        }
        return Device(
            major: UInt32(values[0]), minor: UInt32(values[1]), name: name.string,
            readsCompleted: values[columns.0], sectorsRead: values[columns.1],
            writesCompleted: values[columns.2], sectorsWritten: values[columns.3],
            fieldCount: fieldCount)
    }
}
