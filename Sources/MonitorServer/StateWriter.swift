import Concurrency
import DaemonKit
import EtcdClient
import FleetModel

/// The worker thread that records node states (`<prefix>/state/<node>`) for
/// the leading server: it drains what the loop queued, keeps the newest
/// record per node, and puts them in batches, each one transaction that
/// writes only while the leader key is under the lease the loop named (a
/// server that lost the lead can never overwrite its successor's records).
/// It posts each batch's outcome back. Started on the daemon's worker group,
/// ends when the group stops it.
public final class StateWriter: Sendable {
    public enum Outcome: Sendable, Equatable {
        case written
        /// The leader key is not under the lease the writes were fenced with.
        case fenced
        case failed(String)
    }

    private enum Request: Sendable {
        case write([(node: String, value: [UInt8])], fence: Int64)
        case stop
    }

    static let workerName = "state writer"
    /// Records per transaction: below etcd's default --max-txn-ops (128).
    static let batchSize = 100

    private let requests = Mailbox<Request>()

    init<Message: Sendable>(_ group: WorkerGroup<Message>, client: EtcdClient, layout: KeyLayout, tick: Double,
                            report: @escaping @Sendable ([String], Outcome) -> Message) {
        let requests = self.requests
        group.start(Self.workerName, stop: { requests.post(.stop) }) {
            while true {
                group.beat(Self.workerName)
                guard let first = requests.next(timeout: tick) else { continue }
                var newest: [String: [UInt8]] = [:], fence: Int64 = 0
                var queued = [first]
                while let more = requests.next(timeout: 0) { queued.append(more) }
                for request in queued {
                    switch request {
                    case .stop: return
                    case let .write(records, lease):
                        // Another lease: the loop leads again under a new one; only its records count.
                        if lease != fence { newest = [:]; fence = lease }
                        for record in records { newest[record.node] = record.value }
                    }
                }
                let nodes = newest.keys.sorted()
                for start in stride(from: 0, to: nodes.count, by: Self.batchSize) {
                    let batch = Array(nodes[start..<min(nodes.count, start + Self.batchSize)])
                    let outcome: Outcome
                    do {
                        let written = try client.putAll(batch.map { (layout.state($0), newest[$0] ?? []) },
                                                        when: .leaseOf(layout.leader, fence))
                        outcome = written ? .written : .fenced
                    } catch {
                        outcome = .failed((error as? EtcdError)?.shortReason ?? "\(error)")
                    }
                    group.beat(Self.workerName)
                    group.post(report(batch, outcome))
                }
            }
        }
    }

    /// Queues `records` (node, encoded `NodeState`) to be written while the
    /// leader key is under `fence`.
    func write(_ records: [(node: String, value: [UInt8])], fence: Int64) {
        requests.post(.write(records, fence: fence))
    }
}
