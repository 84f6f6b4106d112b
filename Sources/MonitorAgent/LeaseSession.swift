import EtcdClient
import Foundation
import Concurrency
import DaemonKit
import SystemdNotify

/// Proves the node alive: grants a lease, puts the heartbeat attached to it, and
/// keeps the lease alive with the keepalive API on its own thread. Owns the lease
/// until `stop()`; the owner revokes it on a clean stop. Reports every state
/// change through `onChange`; retries with capped, jittered backoff.
final class LeaseSession: @unchecked Sendable {
    enum State: Equatable, Sendable {
        case connecting
        case alive(Lease)
        case unreachable(reason: String, retryIn: Double)
    }

    static let workerName = "keepalive"

    private let client: EtcdClient
    private let ttl: Int64
    private let key: String
    private let makeValue: () -> [UInt8]
    private let progress: ProgressMonitor
    private let onChange: (State) -> Void
    /// Longest sleep without a sign of life for the watchdog.
    private let tick: Double
    private let stopSignal = StopSignal()
    private let leaseLock = NSLock()
    private var lease: Lease?
    private var lastState: State?

    init(client: EtcdClient, ttl: Int64, key: String, progress: ProgressMonitor, tick: Double,
         makeValue: @escaping () -> [UInt8], onChange: @escaping (State) -> Void) {
        self.tick = tick
        self.client = client
        self.ttl = ttl
        self.key = key
        self.progress = progress
        self.makeValue = makeValue
        self.onChange = onChange
    }

    /// The lease the heartbeat is attached to, nil while (re)connecting.
    var currentLease: Lease? {
        leaseLock.lock(); defer { leaseLock.unlock() }
        return lease
    }

    func stop() { stopSignal.stop() }

    /// A put reported the lease gone: check now instead of at the next keepalive.
    func leaseSuspect() { stopSignal.poke() }

    /// Keepalive every TTL/3: two may be lost before the lease expires.
    private var keepaliveInterval: Double { max(0.5, Double(ttl) / 3) }

    func run() {
        var backoff = Backoff()
        var lastRenewal = Date()
        publish(.connecting)
        while !stopSignal.isStopped {
            progress.beat(Self.workerName)
            guard let held = currentLease else {
                do {
                    let granted = try client.grantLease(ttl: ttl)
                    try client.put(key, value: makeValue(), lease: granted.id)
                    setLease(granted)
                    lastRenewal = Date()
                    backoff.reset()
                    publish(.alive(granted))
                } catch {
                    let delay = backoff.next()
                    publish(.unreachable(reason: Self.reason(error), retryIn: delay))
                    sleepBeating(delay)
                }
                continue
            }
            sleepBeating(keepaliveInterval)
            if stopSignal.isStopped { break }
            do {
                try client.keepAlive(held.id)
                lastRenewal = Date()
                publish(.alive(held))
            } catch EtcdError.leaseLost {
                // Expired during an outage or revoked from outside: start over.
                setLease(nil)
                publish(.unreachable(reason: "lease \(Self.hex(held.id)) lost", retryIn: 0))
            } catch {
                // The lease may outlive a short outage; keep it until its TTL has
                // certainly run out, then re-grant.
                if Date().timeIntervalSince(lastRenewal) > Double(held.ttl) { setLease(nil) }
                publish(.unreachable(reason: Self.reason(error), retryIn: keepaliveInterval))
            }
        }
    }

    private func setLease(_ new: Lease?) {
        leaseLock.lock()
        lease = new
        leaseLock.unlock()
    }

    private func publish(_ state: State) {
        guard state != lastState else { return }
        lastState = state
        onChange(state)
    }

    /// Sleeps in slices of at most `tick` so the watchdog sees this thread
    /// alive; returns early on stop or poke.
    private func sleepBeating(_ seconds: Double) {
        _ = stopSignal.wait(seconds, slice: tick) { progress.beat(Self.workerName) }
    }

    static func reason(_ error: Error) -> String {
        (error as? EtcdError)?.shortReason ?? "\(error)"
    }

    /// Lease IDs as etcdctl prints them (hex), so operators can paste them.
    static func hex(_ id: Int64) -> String { String(UInt64(bitPattern: id), radix: 16) }
}
