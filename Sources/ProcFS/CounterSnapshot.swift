/// Per-device readings of one byte counter (e.g. bytes read per disk) taken at one
/// instant: the input to `RateCalculator`.
public struct CounterSnapshot: Equatable, Sendable {
    /// When the counters were read, in the collector's clock (monotonic seconds).
    public var time: Double
    /// Counter value per device or interface name.
    public var counters: [String: UInt64]

    public init(time: Double, counters: [String: UInt64]) {
        self.time = time
        self.counters = counters
    }
}
