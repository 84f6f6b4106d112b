/// The memory figures the agent publishes, from /proc/meminfo, in bytes.
///
/// "Available" is MemAvailable, the kernel's estimate of memory that can be given to
/// new work without swapping. Kernels before 3.14 lack it; there it is estimated as
/// MemFree + Buffers + Cached, the pre-3.14 `free` convention. That overstates it
/// somewhat (Cached includes shmem, which cannot be dropped), an acceptable error for
/// a percent-used gauge on kernels that old.
public struct MemInfo: Equatable, Sendable {
    public var totalBytes: UInt64
    public var availableBytes: UInt64
    /// False when `availableBytes` is the pre-3.14 estimate.
    public var hasMemAvailable: Bool

    public init(totalBytes: UInt64, availableBytes: UInt64, hasMemAvailable: Bool = true) {
        self.totalBytes = totalBytes
        self.availableBytes = availableBytes
        self.hasMemAvailable = hasMemAvailable
    }

    /// (total - available) / total, in percent, within 0...100 even if a kernel
    /// (or the estimate) reports more available than total.
    public var usedPercent: Double {
        guard totalBytes > 0, availableBytes < totalBytes else {
            return 0
        }
        return Double(totalBytes - availableBytes) / Double(totalBytes) * 100
    }

    /// Parses the text of /proc/meminfo. Every line must be `Key: value [kB]`; only
    /// MemTotal and MemAvailable (or MemFree, Buffers, Cached) are kept.
    /// Throws `ProcParseError`.
    public static func parse(_ text: String, file: String = "/proc/meminfo") throws -> MemInfo {
        var total: (bytes: UInt64, line: Int, text: String)?
        var available: UInt64?
        var free: UInt64?
        var buffers: UInt64?
        var cached: UInt64?

        try ProcText.withLines(text) { lines in
            while var line = lines.next() {
                if line.isBlank {
                    continue
                }
                let (key, bytes) = try parseLine(&line, file: file)
                if key.equals("MemTotal") {
                    total = (bytes, line.number, line.text)
                } else if key.equals("MemAvailable") {
                    available = bytes
                } else if key.equals("MemFree") {
                    free = bytes
                } else if key.equals("Buffers") {
                    buffers = bytes
                } else if key.equals("Cached") {
                    cached = bytes
                }
            }
        }

        guard let total else {
            throw ProcParseError(file: file, line: nil, message: "no MemTotal")
        }
        guard total.bytes > 0 else {
            throw ProcParseError(file: file, line: total.line, text: total.text, message: "MemTotal is 0")
        }
        if let available {
            return MemInfo(totalBytes: total.bytes, availableBytes: available)
        }
        guard let free, let buffers, let cached else {
            throw ProcParseError(
                file: file, line: nil,
                message: "no MemAvailable, and no MemFree, Buffers and Cached to estimate it from")
        }
        return MemInfo(
            totalBytes: total.bytes, availableBytes: free &+ buffers &+ cached, hasMemAvailable: false)
    }

    /// One `Key:   1234 kB` line as key and bytes. Lines without a unit (HugePages_*)
    /// are counts and are taken as they are.
    private static func parseLine(_ line: inout ProcLine, file: String) throws -> (key: ProcField, bytes: UInt64) {
        let whole = line  // for error reports; its text is only built on failure
        func failure(_ message: String) -> ProcParseError {
            ProcParseError(file: file, line: whole.number, text: whole.text, message: message)
        }
        guard var keyPart = line.split(at: UInt8(ascii: ":")), let key = keyPart.nextField(),
              keyPart.nextField() == nil
        else {
            throw failure("expected \"Key: value\"")
        }
        guard let valueField = line.nextField() else {
            throw failure("expected \"Key: value [kB]\"")
        }
        let unit = line.nextField()
        guard line.nextField() == nil else {
            throw failure("expected \"Key: value [kB]\"")
        }
        guard let value = valueField.uint64 else {
            throw failure("value is not a number: \"\(valueField.string)\"")
        }
        guard let unit else {
            return (key, value)
        }
        guard unit.equals("kB") else {
            throw failure("unknown unit \"\(unit.string)\"")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1024)
        guard !overflow else {
            throw failure("value too large")
        }
        return (key, bytes)
    }
}
