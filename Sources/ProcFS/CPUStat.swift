/// The aggregate "cpu " line of /proc/stat: time every CPU together has spent in
/// each state since boot, in USER_HZ ticks.
///
/// Kernels print more columns over time, so absent columns are 0:
/// 4 (user nice system idle) before 2.5.41; 7 adds iowait irq softirq;
/// 8 adds steal (2.6.11); 9 adds guest (2.6.24); 10 adds guest_nice (2.6.33).
/// Columns beyond 10, should a future kernel add them, are ignored.
public struct CPUStat: Equatable, Sendable {
    public var user: UInt64
    public var nice: UInt64
    public var system: UInt64
    public var idle: UInt64
    public var iowait: UInt64
    public var irq: UInt64
    public var softirq: UInt64
    public var steal: UInt64
    public var guest: UInt64
    public var guestNice: UInt64
    /// How many numeric columns the kernel printed (4 or more).
    public var columns: Int

    public init(
        user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0,
        iowait: UInt64 = 0, irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0,
        guest: UInt64 = 0, guestNice: UInt64 = 0, columns: Int = 10
    ) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.iowait = iowait
        self.irq = irq
        self.softirq = softirq
        self.steal = steal
        self.guest = guest
        self.guestNice = guestNice
        self.columns = columns
    }

    /// Ticks doing work. Equals total - idle - iowait. guest and guest_nice are left
    /// out because the kernel already counts them in user and nice (account_guest_time).
    /// Wrapping adds: absurd input must not trap the agent.
    public var busyTicks: UInt64 {
        user &+ nice &+ system &+ irq &+ softirq &+ steal
    }

    /// Ticks with nothing to run, waiting for I/O included.
    public var idleTicks: UInt64 {
        idle &+ iowait
    }

    public var totalTicks: UInt64 {
        busyTicks &+ idleTicks
    }

    /// Percent busy (0...100) between `previous` and this reading.
    ///
    /// Busy and idle deltas are each taken with the `CounterDelta` rule, so a
    /// backwards step (iowait is known to dip on NO_HZ kernels; CPU hot-unplug drops a
    /// CPU's ticks from the sum) counts as zero instead of giving a negative or
    /// >100 result. No ticks elapsed gives 0.
    public func busyPercent(since previous: CPUStat) -> Double {
        let busy = Double(CounterDelta.between(previous.busyTicks, busyTicks))
        let idle = Double(CounterDelta.between(previous.idleTicks, idleTicks))
        guard busy + idle > 0 else {
            return 0
        }
        return busy / (busy + idle) * 100
    }

    /// Parses the text of /proc/stat; only the aggregate "cpu " line is read.
    /// Throws `ProcParseError`.
    public static func parse(_ text: String, file: String = "/proc/stat") throws -> CPUStat {
        try ProcText.withLines(text) { lines in
            while var line = lines.next() {
                // "cpu", not "cpu0": the per-CPU lines follow the aggregate.
                if line.nextField()?.equals("cpu") == true {
                    return try parseAggregate(&line, file: file)
                }
            }
            throw ProcParseError(file: file, line: nil, message: "no aggregate \"cpu\" line")
        }
    }

    private static func parseAggregate(_ line: inout ProcLine, file: String) throws -> CPUStat {
        let columns = line.remainingFieldCount
        guard columns >= 4 else {
            throw ProcParseError(
                file: file, line: line.number, text: line.text,
                message: "expected at least 4 columns after \"cpu\", found \(columns)")
        }
        var values = [UInt64](repeating: 0, count: 10)
        // Columns past 10 are not read.
        for column in 0..<min(columns, 10) {
            let field = line.nextField()!
            guard let value = field.uint64 else {
                throw ProcParseError(
                    file: file, line: line.number, text: line.text,
                    message: "column \(column + 1) is not a counter: \"\(field.string)\"")
            }
            values[column] = value
        }
        return CPUStat(
            user: values[0], nice: values[1], system: values[2], idle: values[3],
            iowait: values[4], irq: values[5], softirq: values[6], steal: values[7],
            guest: values[8], guestNice: values[9], columns: columns)
    }
}
