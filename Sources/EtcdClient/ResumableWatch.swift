import Concurrency

/// Mirrors a key or prefix: reads it once, then watches from that read's revision
/// + 1, and keeps doing so across stream ends, etcd restarts, member failures and
/// compaction, without losing an event. Runs on the caller's thread until `stop()`.
///
/// The gap this prevents: between a range read at revision R and a watch that
/// starts "now", writes at R+1... would be missed. Starting the watch at R+1, and
/// resuming each reconnect at (last seen revision + 1), makes the event sequence
/// gap-free. When that revision has been compacted, the whole state is read
/// again and delivered as a fresh snapshot.
// @unchecked: `nextRevision` and `endpointIndex` are used only by the thread in
// `run`; `stop()`, the one call from other threads, touches only the stop signal
// and the locked current stream.
public final class ResumableWatch: @unchecked Sendable {
    public enum Update: Sendable {
        /// The complete current state (at start, and after compaction).
        case snapshot([KeyValue], revision: Int64)
        /// Changes, in revision order.
        case events([WatchEvent], revision: Int64)
        /// The watch is established on `endpoint` (after start or a reconnect).
        case connected(endpoint: String)
        /// The watch broke; it retries by itself after `retryIn` seconds.
        case disconnected(EtcdError, retryIn: Double)
        /// The member answered a probe during a quiet spell: nothing was
        /// missed up to now (only with a `WatchProbe`).
        case heard
    }

    private let client: EtcdClient
    private let key: String
    private let prefix: Bool
    private let stopSignal = StopSignal()
    private let tick: Double
    private var nextRevision: Int64 = 0
    private var endpointIndex = 0
    /// The token the last stream was opened with, and whether it was just renewed.
    private var lastToken: String?
    private var tokenRenewed = false
    private let currentStream = Locked<WatchStream?>(nil)
    private let probe: WatchProbe?

    /// `tick`: the longest the thread stays silent; `onIdle` runs at least that
    /// often so a watchdog can tell a waiting thread from a stuck one. `probe`:
    /// how a silent member is found out (see `WatchProbe`); nil trusts the
    /// stream (and TCP keepalives) alone.
    public init(client: EtcdClient, key: String, prefix: Bool, tick: Double = 1, probe: WatchProbe? = nil) {
        self.client = client
        self.key = key
        self.prefix = prefix
        self.tick = tick
        self.probe = probe
    }

    /// Stops `run` within milliseconds, from any thread.
    public func stop() {
        stopSignal.stop()
        currentStream.withLock { $0 }?.cancel()
    }

    public var isStopped: Bool { stopSignal.isStopped }

    /// Blocks, delivering updates to `handler` on this thread, until `stop()`.
    public func run(onIdle: @escaping () -> Void = {}, handler: (Update) -> Void) {
        var backoff = Backoff()
        var needSnapshot = true
        while !stopSignal.isStopped {
            onIdle()
            do {
                if needSnapshot {
                    let result = try client.range(key, prefix: prefix)
                    nextRevision = result.revision + 1
                    needSnapshot = false
                    handler(.snapshot(result.kvs, revision: result.revision))
                }
                try watchOnce(backoff: &backoff, onIdle: onIdle, handler: handler)
                // Stream ended cleanly (etcd stopped): reconnect from nextRevision.
                if stopSignal.isStopped { break }
                let delay = backoff.next()
                handler(.disconnected(.unavailable(endpoint: currentEndpoint, reason: "stream ended"), retryIn: delay))
                rotateEndpoint()
                if waitBeating(delay, onIdle: onIdle) { break }
            } catch EtcdError.cancelled {
                break
            } catch let error as EtcdError where error.isInvalidToken && !tokenRenewed {
                // The token expired (or etcd restarted): a new one, at once, once.
                client.access?.invalidate(lastToken)
                tokenRenewed = true
            } catch let EtcdError.compacted(revision) {
                // Our resume point is gone: re-read the whole state, then watch on.
                _ = revision
                needSnapshot = true
            } catch {
                if stopSignal.isStopped { break }
                let etcdError = error as? EtcdError ?? .malformedResponse("\(error)")
                let delay = backoff.next()
                handler(.disconnected(etcdError, retryIn: delay))
                rotateEndpoint()
                if waitBeating(delay, onIdle: onIdle) { break }
            }
        }
    }

    /// Backoff wait in slices of `tick`, calling `onIdle` between them: waiting
    /// for etcd is progress, not a stuck thread. Returns true when stopped.
    private func waitBeating(_ seconds: Double, onIdle: () -> Void) -> Bool {
        stopSignal.wait(seconds, slice: tick, beat: onIdle) == .stopped
    }

    private var currentEndpoint: String { client.endpoints[endpointIndex % client.endpoints.count] }

    private func rotateEndpoint() { endpointIndex = (endpointIndex + 1) % client.endpoints.count }

    private func watchOnce(backoff: inout Backoff, onIdle: () -> Void, handler: (Update) -> Void) throws {
        let stream = WatchStream()
        currentStream.withLock { $0 = stream }
        defer { currentStream.withLock { $0 = nil } }
        if stopSignal.isStopped { throw EtcdError.cancelled }
        let endpoint = currentEndpoint
        var resetBackoff = false
        lastToken = try client.watchToken(endpoint)
        try stream.run(endpoint: endpoint, key: key, prefix: prefix, startRevision: nextRevision, tick: tick,
                       probe: probe, access: client.access, token: lastToken, onMessage: { message in
            if message.created {
                if !resetBackoff { backoff.reset(); resetBackoff = true }
                tokenRenewed = false
                handler(.connected(endpoint: endpoint))
            }
            if !message.events.isEmpty {
                nextRevision = message.nextRevision(after: nextRevision)
                handler(.events(message.events, revision: message.revision))
            } else if !message.created && message.revision >= nextRevision {
                // Progress notification: everything up to header.revision was seen.
                nextRevision = message.revision + 1
            }
        }, onIdle: {
            onIdle()
        }, onHeard: {
            handler(.heard)
        })
    }
}
