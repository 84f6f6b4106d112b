import Concurrency
import FleetModel
import ProcFS
/// "memory": percent used, plus total and available bytes, from /proc/meminfo.
/// A gauge: nothing is kept between rounds.
struct MemoryCollector: ProcCollector {
    static let metrics: [MetricName] = [.memory]
    static let needsBaseline = false

    let path: String

    init(procRoot: String) {
        path = procRoot + "/meminfo"
    }

    func update(
        reader: inout ProcFileReader, now: () -> Double, into sample: inout MetricsSample
    ) throws {
        let info = try MemInfo.parse(reader.read(path), file: path)
        sample.values[.memory] = info.usedPercent
        sample.memoryTotalBytes = info.totalBytes
        sample.memoryAvailableBytes = info.availableBytes
    }
}
