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
        key prefix without gaps across etcd restarts and leader changes, with the \
        server's own rules: STALE is a lease kept alive without new rounds, LEFT a \
        clean stop, DEAD an expired lease. Interruptions are reported on stderr. \
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
        // The whole prefix, as the server watches it: the registry tells a clean
        // stop from a crash, and the heartbeats' intervals tell staleness.
        let watched = layout.prefix + "/"
        let watch = ResumableWatch(client: session.client, key: watched, prefix: true, tick: Self.staleCheckTick)
        session.stopSignal.whenStopped { watch.stop() }
        var fleet = FleetState(layout: layout, rules: FleetView.Rules(staleAfterRounds: session.settings.server.staleAfterRounds))
        var synced = false
        var interrupted = false
        var startError: EtcdError?
        let output = session.output
        // Staleness is judged on the monotonic clock by receive time, as the server does.
        let now = { MonotonicInstant.now().seconds }
        watch.run(onIdle: {
            if let deadline = fleet.nextDeadline(), now() >= deadline {
                emit(fleet.tick(now: now()), session)
            }
        }) { update in
            switch update {
            case let .snapshot(kvs, revision):
                let transitions = fleet.apply(snapshot: kvs.map { FleetChange(key: $0.key, value: $0.value, lease: $0.lease) }, now: now())
                if !synced {
                    output.errorLine("monitorctl: watching \(watched) from revision \(revision + 1); \(fleet.summary)")
                    synced = true
                }
                emit(transitions, session)
            case let .events(events, _):
                let changes = events.map {
                    FleetChange(key: $0.kv.key, value: $0.kind == .put ? $0.kv.value : nil, previous: $0.previous?.value,
                                lease: $0.kind == .put ? $0.kv.lease : nil, previousLease: $0.previous?.lease)
                }
                emit(fleet.apply(changes: changes, now: now()), session)
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
            throw CtlError.runtime("watching \(watched): \(startError)")
        }
        return CtlExitCode.success
    }

    /// How often the watch thread checks for nodes turning stale between events.
    static let staleCheckTick = 0.5

    /// State changes only: the threshold warnings are the server's journal's.
    private func emit(_ transitions: [FleetState.Transition], _ session: CtlSession) {
        let changes = transitions.filter(\.event.isStateChange)
        guard !changes.isEmpty else { return }
        let stamp = HumanFormat.timestamp(session.now())
        session.output.write(changes.map { "\(stamp) \(StatusReport.shown($0.node)) \($0.event.rawValue)\n" }.joined())
    }
}
