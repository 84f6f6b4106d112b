import Concurrency
import Glibc
import FleetModel
import ProcFS
/// "cpu": percent busy over all CPUs since the previous round, from /proc/stat.
/// Owns the previous reading of the aggregate line.
struct CPUCollector: ProcCollector {
    static let metrics: [MetricName] = [.cpu]
    static let needsBaseline = true

    let path: String
    private var previous: CPUStat?

    init(procRoot: String) {
        path = procRoot + "/stat"
    }

    mutating func update(
        reader: inout ProcFileReader, now: () -> Double, into sample: inout MetricsSample
    ) throws {
        let stat = try CPUStat.parse(reader.read(path), file: path)
        // Ticks are USER_HZ (sysconf's clock ticks) per second.
        let hertz = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        sample.counters[.cpuBusySeconds] = Double(stat.busyTicks) / hertz
        sample.counters[.cpuSeconds] = Double(stat.totalTicks) / hertz
        // Ticks carry their own time base: no clock needed.
        if let previous {
            sample.values[.cpu] = stat.busyPercent(since: previous)
        }
        previous = stat
    }
}
