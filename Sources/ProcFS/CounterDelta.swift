/// How far a kernel counter advanced between two readings, under one rule for
/// counters that go backwards.
///
/// The rule: a backwards step is a reset and is worth 0 for that interval; the new
/// reading becomes the baseline for the next one. The alternative, counting from
/// zero (taking the new value as the delta), is right only if the reset happened
/// just after the previous reading; after a 32-bit wrap on an old kernel, a device
/// re-created under the same name, or a counter that restarted long ago, it
/// credits one interval with traffic that belongs to others, and that spike is
/// exactly what alerts fire on. Reporting 0 for one interval loses at most one
/// interval's worth and is never negative or absurd.
public enum CounterDelta {
    public static func between(_ previous: UInt64, _ current: UInt64) -> UInt64 {
        current >= previous ? current - previous : 0
    }
}
