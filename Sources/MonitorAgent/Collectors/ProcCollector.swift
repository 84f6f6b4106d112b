import Concurrency
import FleetModel
import ProcFS
/// One metric family read from one /proc file: reads it, parses it and turns it into
/// values, keeping whatever baseline its rates need between rounds.
///
/// Errors (`ProcReadError`, `ProcParseError`) are thrown to `MetricsCollector`, which
/// reports them against this collector's metrics only; a failed update leaves the
/// baseline as it was, so the next good round measures over the longer interval.
protocol ProcCollector {
    /// The metrics this file yields.
    static var metrics: [MetricName] { get }

    /// Whether values depend on a previous reading (counters), so `prime()` must take one.
    static var needsBaseline: Bool { get }

    /// Reads the file, stores values since the previous update into `sample` (all of
    /// `metrics`; the caller drops the ones not selected) and makes this reading the
    /// new baseline. The first update of a counter source only sets the baseline.
    /// `now` is called right after the read, so rates use the time of the reading.
    mutating func update(
        reader: inout ProcFileReader, now: () -> Double, into sample: inout MetricsSample
    ) throws
}
