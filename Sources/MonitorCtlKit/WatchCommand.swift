import ArgumentParser
import Concurrency
import EtcdClient
import FleetModel
import Foundation
import MonitorSettings

/// `monitorctl watch`: one line per transition, live, until SIGINT/SIGTERM.
struct WatchCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow node transitions live: \"<time> <node> ALIVE|STALE|LEFT|DEAD\", one line each.",
        discussion: """
        Starts with the nodes alive now (one ALIVE line each), then follows the \
        key prefix without gaps across etcd restarts and leader changes. While a \
        monitor-serverd leads, the lines are the transitions it records (one truth \
        with the server's journal and `status`); without one, they are computed \
        here with the server's own rules: STALE is a lease kept alive without new \
        rounds, LEFT a clean stop, DEAD an expired lease. Which of the two, and \
        interruptions, are reported on stderr. Stops cleanly on SIGINT or SIGTERM \
        (exit 0); exits 1 if etcd cannot be read at start.

        -o json prints one JSON object per line and transition (JSON lines): \
        {"time" (unix seconds), "node", "event" (ALIVE, STALE, LEFT, DEAD), "state" \
        (alive, stale, stopped, dead: the state after it), "detail" ("first seen", \
        "lease expired", ...)}.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json (one object per line).")
    var output: TextFormat = .text

    func execute(_ session: CtlSession) throws -> Int32 {
        if session.installSignalHandlers {
            // Before the watch starts any transfer: only the listener thread takes them.
            SignalListener.blockSignals()
            let stop = session.stopSignal
            SignalListener.start { _ in stop.stop() }
        }
        let layout = session.layout
        // The whole prefix, as the server watches it: the registry tells a clean
        // stop from a crash, and the heartbeats' intervals tell staleness.
        let watched = layout.prefix + "/"
        let output = session.output
        let watch = ResumableWatch(client: session.client, key: watched, prefix: true, tick: Self.staleCheckTick,
                                   probe: WatchProbe())
        session.stopSignal.whenStopped { watch.stop() }
        var fleet = FleetState(layout: layout, rules: FleetView.Rules(staleAfterRounds: session.settings.server.staleAfterRounds))
        var synced = false
        var interrupted = false
        // A server leads: print what it records rather than what we compute.
        var leading = false
        func noteLeader(_ present: Bool) {
            if present != leading || !synced {
                output.errorLine(present ? "monitorctl: transitions as the leading monitor-serverd records them"
                                         : "monitorctl: no monitor-serverd leads; transitions computed here")
            }
            leading = present
        }
        var startError: EtcdError?
        // Staleness is judged on the monotonic clock by receive time, as the server does.
        let now = { MonotonicInstant.now().seconds }
        watch.run(onIdle: {
            if let deadline = fleet.nextDeadline(), now() >= deadline {
                let transitions = fleet.tick(now: now())
                if !leading { emit(transitions, session) }
            }
        }) { update in
            switch update {
            case let .snapshot(kvs, revision):
                fleet.thaw(now: now())
                let transitions = fleet.apply(snapshot: kvs.map { FleetChange(key: $0.key, value: $0.value, lease: $0.lease) }, now: now())
                if !synced {
                    output.errorLine("monitorctl: watching \(watched) from revision \(revision + 1); \(fleet.summary)")
                }
                noteLeader(kvs.contains { $0.key == layout.leader })
                if leading {
                    if !synced {
                        let alive = fleet.view(now: now()).nodes.filter { $0.state == .alive }
                        emit(alive.map { .init(node: $0.name, event: .alive, detail: "", state: .alive) }, session)
                    }
                } else {
                    emit(transitions, session)
                }
                synced = true
            case let .events(events, _):
                let changes = events.map {
                    FleetChange(key: $0.kv.key, value: $0.kind == .put ? $0.kv.value : nil, previous: $0.previous?.value,
                                lease: $0.kind == .put ? $0.kv.lease : nil, previousLease: $0.previous?.lease)
                }
                let recorded = Self.recordedTransitions(events, layout: layout, before: fleet)
                let computed = fleet.apply(changes: changes, now: now())
                if let leader = events.last(where: { $0.kv.key == layout.leader }) { noteLeader(leader.kind == .put) }
                emit(leading ? recorded : computed, session)
            case let .connected(endpoint):
                if interrupted {
                    output.errorLine("monitorctl: watch resumed on \(endpoint); STALE only after a full window from now")
                }
                fleet.thaw(now: now())
                interrupted = false
            case .heard:
                break
            case let .disconnected(error, retryIn):
                if !synced {
                    // Nothing read yet: a clear error beats waiting silently.
                    startError = error
                    watch.stop()
                } else if !interrupted {
                    // Blind: missing rounds prove nothing until the watch is back.
                    fleet.freeze()
                    output.errorLine("monitorctl: watch interrupted (\(error)); view frozen, resuming in "
                                     + Interval.text(retryIn, decimals: 1) + " from the next revision")
                    interrupted = true
                }
            }
        }
        if let startError {
            throw CtlError.runtime("watching \(watched): \(startError)")
        }
        return CtlExitCode.success
    }

    /// The state changes the leading server recorded in `events`, judged
    /// against the records `fleet` held before them.
    static func recordedTransitions(_ events: [WatchEvent], layout: KeyLayout, before fleet: FleetState) -> [FleetState.Transition] {
        var last: [String: FleetView.State] = [:], out: [FleetState.Transition] = []
        for event in events where event.kind == .put {
            guard let name = layout.node(fromStateKey: event.kv.key), let record = NodeState.parse(event.kv.value) else { continue }
            let previous = last[name] ?? fleet.storedState(of: name)?.state
            last[name] = record.state
            guard previous != record.state else { continue }
            let event: FleetState.Event = switch record.state {
            case .alive: .alive
            case .stale: .stale
            case .stopped: .left
            case .dead: .dead
            }
            out.append(.init(node: name, event: event, detail: record.reason, state: record.state))
        }
        return out
    }

    /// How often the watch thread checks for nodes turning stale between events.
    static let staleCheckTick = 0.5

    /// State changes only: the threshold warnings are the server's journal's.
    private func emit(_ transitions: [FleetState.Transition], _ session: CtlSession) {
        let changes = transitions.filter(\.event.isStateChange)
        guard !changes.isEmpty else { return }
        let now = session.now()
        switch output {
        case .text:
            let stamp = HumanFormat.timestamp(now)
            session.output.write(changes.map { "\(stamp) \(StatusReport.shown($0.node)) \($0.event.rawValue)\n" }.joined())
        case .json:
            session.output.write(changes.map { Self.jsonLine($0, time: now) }.joined())
        }
    }

    /// One transition as a line of JSON (the node name as stored: JSON escapes it).
    static func jsonLine(_ transition: FleetState.Transition, time: Double) -> String {
        CtlJSON.line(["time": time, "node": transition.node, "event": transition.event.rawValue,
                      "state": transition.state.rawValue, "detail": transition.detail])
    }
}
