import Concurrency
import FleetModel
import ProcFS
/// The agent's metrics source: runs one `ProcCollector` per /proc file for the
/// selected metrics and gathers their values and errors into a `MetricsSample`.
///
/// Owns the collectors' baselines and one reusable read buffer. Not thread-safe:
/// it belongs to the one loop that samples (calls are sequential by design, each
/// rate being "since the previous call").
///
/// Use: `prime()` once at start, so the first `collect` already has rates; then
/// `collect` once per publishing round.
public final class MetricsCollector {
    /// The directory read in place of /proc (tests point it at fixtures).
    public let procRoot: String
    private let clock: () -> Double
    private var reader = ProcFileReader()
    private var cpu: CPUCollector
    private var memory: MemoryCollector
    private var disk: DiskCollector
    private var net: NetCollector

    /// - Parameters:
    ///   - procRoot: where `stat`, `meminfo`, `diskstats` and `net/dev` are read.
    ///   - clock: seconds on a clock that never goes backwards; rates are divided by
    ///     its differences. Injected by tests for exact rates.
    public init(procRoot: String = "/proc", clock: @escaping () -> Double = MonotonicClock.now) {
        self.procRoot = procRoot
        self.clock = clock
        cpu = CPUCollector(procRoot: procRoot)
        memory = MemoryCollector(procRoot: procRoot)
        disk = DiskCollector(procRoot: procRoot)
        net = NetCollector(procRoot: procRoot)
    }

    /// Takes the baseline readings of the counter sources behind `selection`.
    /// Returns the errors of sources that could not be read, for an early warning;
    /// `collect` reports them again if they persist, and a source that fails here
    /// takes its baseline at the first `collect` that can read it.
    @discardableResult
    public func prime(_ selection: Set<MetricName> = Set(MetricName.allCases)) -> [MetricName: String] {
        var sample = MetricsSample()
        Self.run(&cpu, &reader, clock, selection, into: &sample, onlyIfBaseline: true)
        Self.run(&memory, &reader, clock, selection, into: &sample, onlyIfBaseline: true)
        Self.run(&disk, &reader, clock, selection, into: &sample, onlyIfBaseline: true)
        Self.run(&net, &reader, clock, selection, into: &sample, onlyIfBaseline: true)
        return sample.errors
    }

    /// Values of the selected metrics since the previous `prime`/`collect`; a source
    /// that fails gives an error for its metrics only and the others are unaffected.
    public func collect(_ selection: Set<MetricName>) -> MetricsSample {
        var sample = MetricsSample()
        Self.run(&cpu, &reader, clock, selection, into: &sample)
        Self.run(&memory, &reader, clock, selection, into: &sample)
        Self.run(&disk, &reader, clock, selection, into: &sample)
        Self.run(&net, &reader, clock, selection, into: &sample)
        return sample
    }

    /// Updates `collector` if any of its metrics is selected; keeps only selected
    /// values, and turns a thrown error into an error text for each selected metric.
    private static func run<C: ProcCollector>(
        _ collector: inout C, _ reader: inout ProcFileReader, _ clock: () -> Double,
        _ selection: Set<MetricName>, into sample: inout MetricsSample,
        onlyIfBaseline: Bool = false
    ) {
        let selected = C.metrics.filter(selection.contains)
        guard !selected.isEmpty, !onlyIfBaseline || C.needsBaseline else {
            return
        }
        var own = MetricsSample()
        do {
            try collector.update(reader: &reader, now: clock, into: &own)
        } catch {
            for metric in selected {
                sample.errors[metric] = String(describing: error)
            }
            return
        }
        for metric in selected {
            sample.values[metric] = own.values[metric]
        }
        sample.memoryTotalBytes = own.memoryTotalBytes ?? sample.memoryTotalBytes
        sample.memoryAvailableBytes = own.memoryAvailableBytes ?? sample.memoryAvailableBytes
        sample.counters.merge(own.counters) { _, new in new }
    }
}
