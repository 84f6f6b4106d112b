import Concurrency
import FleetModel
import ProcFS
/// "net in" and "net out": bytes per second over every interface but `lo`, from
/// /proc/net/dev. Owns the previous per-interface byte counts.
struct NetCollector: ProcCollector {
    static let metrics: [MetricName] = [.netIn, .netOut]
    static let needsBaseline = true

    let path: String
    private var previous: (received: CounterSnapshot, transmitted: CounterSnapshot)?

    init(procRoot: String) {
        path = procRoot + "/net/dev"
    }

    mutating func update(
        reader: inout ProcFileReader, now: () -> Double, into sample: inout MetricsSample
    ) throws {
        let dev = try NetDev.parse(reader.read(path), file: path)
        let time = now()
        var received = CounterSnapshot(time: time, counters: [:])
        var transmitted = CounterSnapshot(time: time, counters: [:])
        for interface in dev.interfaces where interface.isCounted {
            received.counters[interface.name] = interface.receiveBytes
            transmitted.counters[interface.name] = interface.transmitBytes
        }
        sample.counters[.netReceivedBytes] = Double(received.counters.values.reduce(0, &+))
        sample.counters[.netTransmittedBytes] = Double(transmitted.counters.values.reduce(0, &+))
        if let previous {
            sample.values[.netIn] = RateCalculator.perSecond(from: previous.received, to: received)
            sample.values[.netOut] = RateCalculator.perSecond(from: previous.transmitted, to: transmitted)
        }
        previous = (received, transmitted)
    }
}
