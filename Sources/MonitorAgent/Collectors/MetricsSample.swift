import Concurrency
import FleetModel
import ProcFS
/// One collection round: the values of the selected metrics that could be computed,
/// and an error text for each selected metric that could not.
///
/// A selected metric is in `values` or in `errors`, except in the round that only
/// sets a rate baseline (a source that was unreadable at `prime()`), where it is in
/// neither: there is no interval to compute a rate over yet.
public struct MetricsSample: Equatable, Sendable {
    /// "cpu" and "memory" in percent (0...100); disk and net rates in bytes per second.
    public var values: [MetricName: Double]
    /// MemTotal in bytes, when "memory" was selected and /proc/meminfo was readable.
    public var memoryTotalBytes: UInt64?
    /// MemAvailable (or its pre-3.14 estimate) in bytes, alongside `memoryTotalBytes`.
    public var memoryAvailableBytes: UInt64?
    /// Cumulative totals of the selected metrics' sources, read this round.
    public var counters: [CounterName: Double] = [:]
    /// Why a selected metric has no value, e.g.
    /// `cannot read /proc/diskstats: No such file or directory`.
    public var errors: [MetricName: String]

    public init(
        values: [MetricName: Double] = [:],
        memoryTotalBytes: UInt64? = nil,
        memoryAvailableBytes: UInt64? = nil,
        errors: [MetricName: String] = [:]
    ) {
        self.values = values
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryAvailableBytes = memoryAvailableBytes
        self.errors = errors
    }
}
