import Concurrency
import ArgumentParser
import EtcdClient
import Foundation
import FleetModel
import MonitorSettings

/// Turns heartbeat snapshots and events into ALIVE / LEFT / DEAD transitions,
/// once per change, never per heartbeat. Pure; owned by one watch.
struct TransitionTracker {
    enum Event: String { case alive = "ALIVE", left = "LEFT", dead = "DEAD" }

    struct Transition: Equatable {
        let node: String
        let event: Event
    }

    private let layout: KeyLayout
    /// Nodes with a heartbeat, and whether their latest value was the stopping mark.
    private var present: [String: Bool] = [:]

    init(layout: KeyLayout) { self.layout = layout }

    /// The whole current state: new nodes are ALIVE, nodes that went away while
    /// we were not watching are LEFT or DEAD by their last value.
    mutating func apply(snapshot kvs: [KeyValue]) -> [Transition] {
        var transitions: [Transition] = []
        var seen = Set<String>()
        for kv in kvs {
            guard let node = layout.node(fromHeartbeatKey: kv.key) else { continue }
            seen.insert(node)
            transitions += put(node, kv.value)
        }
        for node in present.keys.sorted() where !seen.contains(node) {
            transitions += delete(node, previous: nil)
        }
        return transitions
    }

    mutating func apply(events: [WatchEvent]) -> [Transition] {
        events.flatMap { event -> [Transition] in
            guard let node = layout.node(fromHeartbeatKey: event.kv.key) else { return [] }
            switch event.kind {
            case .put: return put(node, event.kv.value)
            case .delete: return delete(node, previous: event.previous?.value)
            }
        }
    }

    private mutating func put(_ node: String, _ value: [UInt8]) -> [Transition] {
        let isNew = present[node] == nil
        present[node] = (try? Heartbeat.parse(value))?.isStopping ?? false
        return isNew ? [Transition(node: node, event: .alive)] : []
    }

    private mutating func delete(_ node: String, previous: [UInt8]?) -> [Transition] {
        guard let stopping = present.removeValue(forKey: node) else { return [] }
        // prev_kv carries the stopping mark; our copy is the fallback.
        let clean = previous.flatMap { try? Heartbeat.parse($0) }?.isStopping ?? stopping
        return [Transition(node: node, event: clean ? .left : .dead)]
    }
}

/// `monitorctl watch`: one line per transition, live, until SIGINT/SIGTERM.
struct WatchCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow node transitions live: \"<time> <node> ALIVE|LEFT|DEAD\", one line each.",
        discussion: """
        Starts with the nodes alive now (one ALIVE line each), then follows the \
        heartbeat prefix without gaps across etcd restarts and leader changes. LEFT \
        is a clean stop, DEAD an expired lease. Interruptions are reported on stderr. \
        Stops cleanly on SIGINT or SIGTERM (exit 0); exits 1 if etcd cannot be read at start.
        """)

    @OptionGroup var global: GlobalOptions

    func execute(_ session: CtlSession) throws -> Int32 {
        if session.installSignalHandlers {
            // Before the watch starts any transfer: only the listener thread takes them.
            SignalListener.blockSignals()
            let stop = session.stopSignal
            SignalListener.start { _ in stop.stop() }
        }
        let layout = session.layout
        let watch = ResumableWatch(client: session.client, key: layout.heartbeatPrefix, prefix: true)
        session.stopSignal.whenStopped { watch.stop() }
        var tracker = TransitionTracker(layout: layout)
        var synced = false
        var interrupted = false
        var startError: EtcdError?
        let output = session.output
        watch.run { update in
            switch update {
            case let .snapshot(kvs, revision):
                let transitions = tracker.apply(snapshot: kvs)
                if !synced {
                    output.errorLine("monitorctl: watching \(layout.heartbeatPrefix) from revision \(revision + 1); "
                                     + "\(kvs.count) node\(kvs.count == 1 ? "" : "s") alive")
                    synced = true
                }
                emit(transitions, session)
            case let .events(events, _):
                emit(tracker.apply(events: events), session)
            case let .connected(endpoint):
                if interrupted { output.errorLine("monitorctl: watch resumed on \(endpoint)") }
                interrupted = false
            case let .disconnected(error, retryIn):
                if !synced {
                    // Nothing read yet: a clear error beats waiting silently.
                    startError = error
                    watch.stop()
                } else if !interrupted {
                    output.errorLine("monitorctl: watch interrupted (\(error)); resuming in "
                                     + Interval.text(retryIn, decimals: 1) + " from the next revision")
                    interrupted = true
                }
            }
        }
        if let startError {
            throw CtlError.runtime("watching \(layout.heartbeatPrefix): \(startError)")
        }
        return CtlExitCode.success
    }

    private func emit(_ transitions: [TransitionTracker.Transition], _ session: CtlSession) {
        guard !transitions.isEmpty else { return }
        let stamp = HumanFormat.timestamp(session.now())
        session.output.write(transitions.map { "\(stamp) \($0.node) \($0.event.rawValue)\n" }.joined())
    }
}
