import EtcdClient
import FleetModel

/// Watches the node's own heartbeat key on its own thread and posts every put
/// (with its revision and lease) and delete. It decides nothing: `AgentState`
/// knows the revisions of its own puts and treats any other change as another
/// writer's (a stray script, an admin's mistake), which it restores. Ends on `stop()`.
final class HeartbeatKeyWatcher: Sendable {
    static let workerName = "heartbeat key watch"
    private let watch: ResumableWatch

    init(client: EtcdClient, key: String, tick: Double, probe: WatchProbe?) {
        watch = ResumableWatch(client: client, key: key, prefix: false, tick: tick, probe: probe)
    }

    func stop() { watch.stop() }

    /// `post` and `beat` run on this thread and must only post.
    func run(beat: @escaping @Sendable () -> Void, post: (HeartbeatKeyEvent) -> Void) {
        watch.run(onIdle: beat) { update in
            // The first read (and a re-read after compaction) is the state, not a
            // change: the agent's own put follows it anyway.
            if case let .events(events, _) = update {
                for event in events {
                    post(event.kind == .delete ? .deleted(revision: event.kv.modRevision)
                                               : .put(revision: event.kv.modRevision, lease: event.kv.lease,
                                                      machineID: (try? Heartbeat.parse(event.kv.value))?.machineID))
                }
            }
            beat()
        }
    }
}
