import EtcdClient
import Foundation
import Logging
import FleetModel
import MonitorSettings
import Concurrency
import DaemonKit
import SystemdNotify

/// Watches one config key (the node's own, or the fleet default) on its own
/// thread: reads it once, then follows every change without a gap, and applies
/// each value to the shared `ConfigStore`. A bad value is logged and recorded as
/// the config error; the last good one stays in force. Ends on `stop()`.
final class ConfigWatcher: @unchecked Sendable {
    let workerName: String
    private let key: String
    private let source: ConfigStore.Source
    private let store: ConfigStore
    private let watch: ResumableWatch
    private let progress: ProgressMonitor
    private let logger: Logger
    private let onChange: (ConfigStore.Change?) -> Void
    private var connected: Bool?

    /// `onChange` runs after every applied value (nil change = same effective
    /// config), on the watch thread; it must only post.
    init(client: EtcdClient, key: String, source: ConfigStore.Source, store: ConfigStore,
         progress: ProgressMonitor, tick: Double, logger: Logger, onChange: @escaping (ConfigStore.Change?) -> Void) {
        self.key = key
        self.source = source
        self.store = store
        self.progress = progress
        self.logger = logger
        self.onChange = onChange
        workerName = source == .node ? "config watch" : "default config watch"
        watch = ResumableWatch(client: client, key: key, prefix: false, tick: tick)
    }

    /// Test hook: lets a test stall this thread to prove the watchdog notices.
    var testHookOnTick: (() -> Void)? {
        get { watch.testHookOnTick }
        set { watch.testHookOnTick = newValue }
    }

    func stop() { watch.stop() }

    func run() {
        watch.run(onIdle: { [progress, workerName] in progress.beat(workerName) }) { update in
            switch update {
            case let .snapshot(kvs, _):
                apply(kvs.first, deleted: false, initial: true)
            case let .events(events, _):
                // Only the newest value of the key matters; all arrive in order.
                guard let last = events.last else { return }
                apply(last.kind == .delete ? nil : last.kv, deleted: last.kind == .delete, initial: false)
            case let .connected(endpoint):
                if connected != true {
                    logger.debug("watching \(key)", metadata: ["key": "\(key)", "endpoint": "\(endpoint)"])
                }
                connected = true
            case let .disconnected(error, retryIn):
                if connected != false {
                    logger.warning("config watch on \(key) interrupted (\(error.shortReason)), resuming in \(String(format: "%.1f", retryIn))s",
                                   metadata: ["key": "\(key)", "event": "WATCH_INTERRUPTED"])
                }
                connected = false
            }
            progress.beat(workerName)
        }
    }

    private func apply(_ kv: KeyValue?, deleted: Bool, initial: Bool) {
        guard let kv else {
            let change = store.set(source, nil)
            if initial && source == .node {
                logger.info("no config at \(key), using \(store.config.summary)", metadata: ["key": "\(key)"])
            }
            if deleted {
                let fallback = source == .node ? "the default" : "built-in defaults"
                logger.notice("config key \(key) deleted, falling back to \(fallback): \(store.config.summary)",
                              metadata: ["key": "\(key)", "event": "CONFIG_DELETED"])
            }
            onChange(change)
            return
        }
        do {
            let patch = try AgentConfigPatch.parse(kv.value)
            let change = store.set(source, patch)
            if let change {
                logger.notice("config applied from \(key): \(change.new.describeChange(from: change.old))",
                              metadata: ["key": "\(key)", "event": "CONFIG_APPLIED",
                                         "interval": "\(change.new.interval)", "revision": "\(kv.modRevision)"])
            } else if initial {
                logger.info("config at \(key) read: \(store.config.summary)", metadata: ["key": "\(key)"])
            }
            onChange(change)
        } catch {
            let reason = "\(key): \(error)"
            store.reject(source, reason: reason)
            logger.error("config rejected: \(reason); keeping \(store.config.summary)",
                         metadata: ["key": "\(key)", "event": "CONFIG_REJECTED", "revision": "\(kv.modRevision)"])
            onChange(nil)
        }
    }
}
