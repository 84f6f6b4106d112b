import Concurrency
import EtcdClient
import FleetModel
import Foundation

/// N simulated agents, indistinguishable from real ones in etcd: each grants a
/// lease of `ttl`, writes its registry record and heartbeat as the agent does,
/// keeps the lease alive every TTL/3 and re-puts its heartbeat once per
/// `interval`, rounds spread evenly over the interval. Nodes are split over
/// shards, one thread and one etcd client each. A node can be killed (its
/// keepalives stop: the lease expires) or stopped cleanly (registry marked,
/// heartbeat marked stopping, lease revoked, as the agent's SIGTERM does).
/// Ends with `stop()`: the threads end, leases are left to expire with etcd.
public final class SimulatedFleet: Sendable {
    /// What happened to one node, with monotonic times for the delay figures.
    public struct Fate: Sendable {
        public let node: String
        /// Killed: when its lease expires (last successful keepalive + TTL).
        /// Stopped: when the clean stop began (the registry mark is put).
        public let expected: MonotonicInstant
    }

    public struct Counters: Sendable, Codable {
        public var puts = 0
        public var keepalives = 0
        public var errors = 0
    }

    private final class Shard: Sendable {
        let nodes: [String]
        let client: EtcdClient
        let state = Locked<[NodeState]>([])
        let commands = Locked<[(index: Int, kill: Bool)]>([])
        let fates = Locked<[Fate]>([])
        let counters = Locked(Counters())

        init(nodes: [String], endpoints: [String]) {
            self.nodes = nodes
            client = EtcdClient(endpoints: endpoints, requestTimeout: 5)
        }
    }

    struct NodeState: Sendable {
        var lease: Lease
        /// The registry record written at start; a clean stop marks it stopped.
        var record: NodeRecord
        var nextKeepalive: MonotonicInstant
        var nextRound: MonotonicInstant
        var lastKeepalive: MonotonicInstant
        var seq: Int64 = 0
        var active = true
    }

    public let names: [String]
    public let ttl: Int64
    public let interval: Double
    private let layout: KeyLayout
    private let shards: [Shard]
    private let stopSignal = StopSignal()
    private let threads = Locked<[WorkerThread]>([])

    public init(nodes: Int, shards shardCount: Int, ttl: Int64, interval: Double, layout: KeyLayout, endpoints: [String]) {
        names = (0..<nodes).map { String(format: "bench%05d", $0) }
        self.ttl = ttl
        self.interval = interval
        self.layout = layout
        let count = max(1, min(shardCount, nodes))
        shards = (0..<count).map { s in
            Shard(nodes: stride(from: s, to: nodes, by: count).map { String(format: "bench%05d", $0) }, endpoints: endpoints)
        }
    }

    /// Registers every node (lease, registry record, first heartbeat) on all
    /// shards in parallel, then starts the shards' loops. Throws the first error.
    public func start() throws {
        let failure = Locked<String?>(nil)
        let registered = Locked(0)
        for shard in shards {
            let thread = WorkerThread(name: "bench shard") { [self] in
                do { try register(shard) } catch { failure.withLock { $0 = $0 ?? "\(error)" } }
                registered.withLock { $0 += 1 }
                if failure.withLock({ $0 }) == nil { run(shard) }
            }
            threads.withLock { $0.append(thread) }
            thread.start()
        }
        while registered.withLock({ $0 }) < shards.count { usleep(10_000) }
        if let failure = failure.withLock({ $0 }) {
            stop()
            throw BenchError(message: "registering the simulated nodes failed: \(failure)")
        }
    }

    public func stop() {
        stopSignal.stop()
        for thread in threads.withLock({ $0 }) { thread.join(timeout: 6) }
    }

    /// Stops the keepalives of these nodes (a crash) or stops them cleanly.
    public func end(_ nodes: [String], kill: Bool) {
        for name in nodes {
            for shard in shards {
                if let index = shard.nodes.firstIndex(of: name) {
                    shard.commands.withLock { $0.append((index, kill)) }
                }
            }
        }
    }

    /// Every node ended so far, with its expected moment.
    public var fates: [Fate] { shards.flatMap { $0.fates.withLock { $0 } } }

    public var counters: Counters {
        shards.reduce(into: Counters()) { total, shard in
            let c = shard.counters.withLock { $0 }
            total.puts += c.puts
            total.keepalives += c.keepalives
            total.errors += c.errors
        }
    }

    // MARK: One shard

    private func register(_ shard: Shard) throws {
        let now = MonotonicInstant.now()
        var states: [NodeState] = []
        for name in shard.nodes {
            let lease = try shard.client.grantLease(ttl: ttl)
            let record = NodeRecord.started(node: name, hostname: name, version: MonitorVersion.string,
                                            at: WallClock.now(), previous: nil)
            try shard.client.put(layout.registry(name), value: record.encoded())
            // The schedule is set when the shard's loop starts (`spread`).
            var state = NodeState(lease: lease, record: record, nextKeepalive: now, nextRound: now, lastKeepalive: .now())
            try put(shard, name, &state, status: Heartbeat.alive)
            states.append(state)
        }
        shard.state.withLock { $0 = states }
    }

    /// Keepalive every TTL/3, as the agent does: two may be lost before expiry.
    private var keepaliveEvery: Double { max(0.5, Double(ttl) / 3) }

    /// Spreads rounds and keepalives evenly from `start`: node i of n has its
    /// next round and keepalive (i+1)/n of a period later, then one per period.
    /// Registering 10,000 nodes takes seconds; a schedule anchored at the start of
    /// registration would fire every late node at once when the loop starts, and
    /// that bunch would recur every period. A lease that would not survive until
    /// its slot (2 s margin) is renewed at once first.
    private func spread(_ states: inout [NodeState], from start: MonotonicInstant) {
        for i in states.indices {
            let phase = Double(i + 1) / Double(states.count)
            states[i].nextRound = start + interval * phase
            let slot = start + keepaliveEvery * phase
            let safe = slot < states[i].lastKeepalive + (Double(ttl) - 2)
            states[i].nextKeepalive = safe ? slot : slot + (-keepaliveEvery)
        }
    }

    private func run(_ shard: Shard) {
        var states = shard.state.withLock { $0 }
        spread(&states, from: .now())
        while !stopSignal.isStopped {
            for command in shard.commands.withLock({ c in defer { c.removeAll() }; return c }) {
                end(shard, index: command.index, kill: command.kill, states: &states)
            }
            let now = MonotonicInstant.now()
            for i in states.indices where states[i].active {
                if now >= states[i].nextKeepalive {
                    do {
                        _ = try shard.client.keepAlive(states[i].lease.id)
                        states[i].lastKeepalive = .now()
                        shard.counters.withLock { $0.keepalives += 1 }
                    } catch {
                        shard.counters.withLock { $0.errors += 1 }
                    }
                    states[i].nextKeepalive = states[i].nextKeepalive + keepaliveEvery
                }
                if now >= states[i].nextRound {
                    do { try put(shard, shard.nodes[i], &states[i], status: Heartbeat.alive) } catch {
                        shard.counters.withLock { $0.errors += 1 }
                    }
                    states[i].nextRound = states[i].nextRound + interval
                }
            }
            stopSignal.wait(0.02)
        }
    }

    private func end(_ shard: Shard, index: Int, kill: Bool, states: inout [NodeState]) {
        guard states[index].active else { return }
        states[index].active = false
        let name = shard.nodes[index]
        if kill {
            let expiry = states[index].lastKeepalive + Double(ttl)
            shard.fates.withLock { $0.append(Fate(node: name, expected: expiry)) }
            return
        }
        let began = MonotonicInstant.now()
        do {
            let record = states[index].record.stopping(at: WallClock.now())
            try shard.client.put(layout.registry(name), value: record.encoded())
            try put(shard, name, &states[index], status: Heartbeat.stopping)
            try shard.client.revoke(states[index].lease.id)
            shard.fates.withLock { $0.append(Fate(node: name, expected: began)) }
        } catch {
            shard.counters.withLock { $0.errors += 1 }
        }
    }

    /// The heartbeat as the agent writes it: lab fields, interval, six metrics,
    /// memory, six cumulative counters (growing by a round's worth each put).
    private func put(_ shard: Shard, _ name: String, _ state: inout NodeState, status: String) throws {
        state.seq += 1
        var beat = Heartbeat(status: status, ts: WallClock.now(), hostname: name, interval: interval, node: name,
                             version: MonitorVersion.string, seq: state.seq,
                             metrics: ["cpu": 12.5, "memory": 43.1, "disk read": 1_258_291, "disk write": 512,
                                       "net in": 2048, "net out": 100])
        beat.memoryTotalBytes = 16 << 30
        beat.memoryAvailableBytes = 9 << 30
        let rounds = Double(state.seq)
        beat.counters = [
            "cpu_busy_seconds_total": 100_000 + rounds * interval * 0.25, "cpu_seconds_total": 800_000 + rounds * interval * 2,
            "disk_read_bytes_total": 52_345_678_901 + rounds * interval * 1_258_291,
            "disk_written_bytes_total": 98_765_432_109 + rounds * interval * 512,
            "net_received_bytes_total": 7_654_321_098 + rounds * interval * 2048,
            "net_transmitted_bytes_total": 1_234_567_890 + rounds * interval * 100,
        ]
        try shard.client.put(layout.heartbeat(name), value: beat.encoded(), lease: state.lease.id)
        shard.counters.withLock { $0.puts += 1 }
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
