import EtcdClient

/// Watches one config key (the node's own, or the fleet default) on its own
/// thread: reads it once, then follows every change without a gap, and posts
/// what it sees as `ConfigEvent`s. It parses and decides nothing: the agent's
/// state merges, validates and logs. Ends on `stop()`.
final class ConfigWatcher: Sendable {
    let source: ConfigSource
    private let key: String
    private let watch: ResumableWatch

    init(client: EtcdClient, key: String, source: ConfigSource, tick: Double, probe: WatchProbe?) {
        self.key = key
        self.source = source
        watch = ResumableWatch(client: client, key: key, prefix: false, tick: tick, probe: probe)
    }

    var workerName: String { source == .node ? "config watch" : "default config watch" }

    func stop() { watch.stop() }

    /// `post` and `beat` run on this thread and must only post.
    func run(beat: @escaping @Sendable () -> Void, post: (ConfigEvent) -> Void) {
        watch.run(onIdle: beat) { update in
            switch update {
            case let .snapshot(kvs, revision):
                post(.read(key: key, value: kvs.first?.value, revision: kvs.first?.modRevision ?? revision))
            case let .events(events, revision):
                // Only the newest value of the key matters; all arrive in order.
                guard let last = events.last else { break }
                post(.changed(key: key, value: last.kind == .delete ? nil : last.kv.value,
                              revision: last.kind == .delete ? revision : last.kv.modRevision))
            case let .connected(endpoint):
                post(.connected(key: key, endpoint: endpoint))
            case let .disconnected(error, retryIn):
                post(.interrupted(key: key, reason: error.shortReason, retryIn: retryIn))
            case .heard:
                break
            }
            beat()
        }
    }
}
