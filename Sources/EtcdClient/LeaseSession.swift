import Concurrency

/// A lease and its keepalive, nothing more (like etcd's concurrency.Session):
/// grants a lease, keeps it alive with the keepalive API every TTL/3 on its own
/// thread, reports each change once (`SessionEvent`), reports a lost lease once
/// and grants a new one, retrying with capped, jittered backoff. It never writes
/// a key: the agent's loop puts the heartbeat with the lease it was told about.
/// Ends when `stop()` is called; the owner revokes (`currentLease`) on a clean stop.
/// Used by the agent (its heartbeat's lease) and the server (its election lease).
public final class LeaseSession: Sendable {
    private let client: EtcdClient
    private let ttl: Int64
    /// Longest sleep without a sign of life for the watchdog.
    private let tick: Double
    private let beat: @Sendable () -> Void
    private let report: @Sendable (SessionEvent) -> Void
    private let stopSignal = StopSignal()
    private let lease = Locked<Lease?>(nil)

    /// `report` and `beat` run on the session's thread and must only post.
    public init(client: EtcdClient, ttl: Int64, tick: Double, beat: @escaping @Sendable () -> Void,
         report: @escaping @Sendable (SessionEvent) -> Void) {
        self.client = client
        self.ttl = ttl
        self.tick = tick
        self.beat = beat
        self.report = report
    }

    /// The lease held now, nil while (re)connecting; read by the owner at stop.
    public var currentLease: Lease? { lease.withLock { $0 } }

    public func stop() { stopSignal.stop() }

    /// A put reported the lease gone: check now instead of at the next keepalive.
    public func leaseSuspect() { stopSignal.poke() }

    /// Keepalive every TTL/3: two may be lost before the lease expires.
    private var keepaliveInterval: Double { max(0.5, Double(ttl) / 3) }

    public func run() {
        var backoff = Backoff()
        var lastRenewal = MonotonicInstant.now()
        var troubled = false
        while !stopSignal.isStopped {
            beat()
            guard let held = currentLease else {
                do {
                    let granted = try client.grantLease(ttl: ttl)
                    lease.withLock { $0 = granted }
                    lastRenewal = .now()
                    backoff.reset()
                    troubled = false
                    report(.granted(granted))
                } catch {
                    let delay = backoff.next()
                    report(.unreachable(reason: Self.reason(error), retryIn: delay))
                    sleepBeating(delay)
                }
                continue
            }
            if sleepBeating(keepaliveInterval) == .stopped { break }
            do {
                try client.keepAlive(held.id)
                lastRenewal = .now()
                if troubled { report(.renewed(held)) }
                troubled = false
            } catch EtcdError.leaseLost {
                // Expired during an outage or revoked from outside: start over.
                lease.withLock { $0 = nil }
                report(.lost(held))
            } catch {
                troubled = true
                report(.unreachable(reason: Self.reason(error), retryIn: keepaliveInterval))
                // The lease may outlive a short outage; keep it until its TTL has
                // certainly run out (monotonic: a clock step cannot cut it short).
                if MonotonicInstant.now().secondsSince(lastRenewal) > Double(held.ttl) {
                    lease.withLock { $0 = nil }
                    report(.lost(held))
                }
            }
        }
    }

    /// Sleeps in slices of at most `tick` so the watchdog sees this thread
    /// alive; returns early on stop or poke.
    @discardableResult
    private func sleepBeating(_ seconds: Double) -> StopSignal.WaitOutcome {
        stopSignal.wait(seconds, slice: tick, beat: beat)
    }

    static func reason(_ error: Error) -> String {
        (error as? EtcdError)?.shortReason ?? "\(error)"
    }
}

/// What a lease session observed. It reports each change once.
public enum SessionEvent: Sendable, Equatable {
    /// A new lease: what the owner keeps under it must now be put attached to it.
    case granted(Lease)
    /// A keepalive succeeded after `unreachable`: the same lease lives on.
    case renewed(Lease)
    /// etcd did not answer; the session retries by itself in `retryIn` seconds.
    case unreachable(reason: String, retryIn: Double)
    /// The lease is gone (expired during an outage, or revoked from outside);
    /// the session grants a new one as soon as etcd answers.
    case lost(Lease)
}
