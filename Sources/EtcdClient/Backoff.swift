/// Capped exponential backoff with full jitter around the step, so that a fleet
/// of agents does not reconnect to a recovering etcd in lock step.
public struct Backoff: Sendable {
    public let initial: Double
    public let cap: Double
    public private(set) var attempts = 0

    public init(initial: Double = 0.25, cap: Double = 8) {
        self.initial = initial
        self.cap = cap
    }

    /// The next delay: step = min(cap, initial * 2^attempts), delay drawn from
    /// [step/2, step] (never zero, never above the cap).
    public mutating func next() -> Double {
        // 2^n as a shift (exact, like pow(2, n)): no libm, so no Foundation needed.
        let step = min(cap, initial * Double(1 << min(attempts, 30)))
        attempts += 1
        return Double.random(in: (step / 2)...step)
    }

    public mutating func reset() { attempts = 0 }
}
