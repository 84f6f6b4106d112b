/// Turns two snapshots of per-device counters into one bytes-per-second figure for
/// the whole set of devices.
///
/// Deltas are taken per device and then summed, never as difference of sums: with a
/// difference of sums, a device that disappears (USB disk unplugged, veth of a
/// stopped container) takes its whole counter out of the current sum and the total
/// goes backwards.
public enum RateCalculator {
    /// The sum of per-device deltas divided by the elapsed time.
    ///
    /// - A device in both snapshots contributes its `CounterDelta` (0 if it went
    ///   backwards).
    /// - A device only in `current` (new, or renamed) contributes 0 this interval:
    ///   its counter holds traffic since it appeared, not since `previous`.
    /// - A device only in `previous` (removed) contributes 0.
    /// - No time elapsed, or time going backwards, gives 0 rather than a division by
    ///   zero or a negative rate.
    public static func perSecond(from previous: CounterSnapshot, to current: CounterSnapshot) -> Double {
        let elapsed = current.time - previous.time
        guard elapsed > 0 else {
            return 0
        }
        var total: Double = 0
        for (name, value) in current.counters {
            if let old = previous.counters[name] {
                // Double, not UInt64: a sum of deltas cannot then overflow and trap.
                total += Double(CounterDelta.between(old, value))
            }
        }
        return total / elapsed
    }
}
