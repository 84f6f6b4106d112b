import Concurrency
import FleetModel
import ProcFS
/// "disk read" and "disk write": bytes per second over whole physical disks (see
/// `BlockDeviceName`), from /proc/diskstats. Owns the previous per-disk byte counts.
struct DiskCollector: ProcCollector {
    static let metrics: [MetricName] = [.diskRead, .diskWrite]
    static let needsBaseline = true

    let path: String
    private var previous: (read: CounterSnapshot, written: CounterSnapshot)?

    init(procRoot: String) {
        path = procRoot + "/diskstats"
    }

    mutating func update(
        reader: inout ProcFileReader, now: () -> Double, into sample: inout MetricsSample
    ) throws {
        let stats = try DiskStats.parse(reader.read(path), file: path)
        let time = now()
        var read = CounterSnapshot(time: time, counters: [:])
        var written = CounterSnapshot(time: time, counters: [:])
        for device in stats.devices where device.isCountedWholeDisk {
            read.counters[device.name] = device.bytesRead
            written.counters[device.name] = device.bytesWritten
        }
        sample.counters[.diskReadBytes] = Double(read.counters.values.reduce(0, &+))
        sample.counters[.diskWrittenBytes] = Double(written.counters.values.reduce(0, &+))
        if let previous {
            sample.values[.diskRead] = RateCalculator.perSecond(from: previous.read, to: read)
            sample.values[.diskWrite] = RateCalculator.perSecond(from: previous.written, to: written)
        }
        previous = (read, written)
    }
}
