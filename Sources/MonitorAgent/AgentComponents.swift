import EtcdClient
import Foundation
import Logging
import FleetModel
import MonitorSettings
import Concurrency
import DaemonKit
import SystemdNotify

/// The threads of one registration: the lease session and the two config
/// watches, each with its own etcd client (a keepalive never queues behind a
/// slow put), plus the work loop's client. Built from one settings snapshot;
/// a reload that changes etcd or agent settings builds a new one.
final class AgentComponents {
    let session: LeaseSession
    let workClient: EtcdClient
    private let watchers: [ConfigWatcher]
    private var threads: [WorkerThread] = []
    private let settings: Settings
    private let heartbeatKey: String
    private let progress: ProgressMonitor
    /// A lease of the previous registration to revoke once this one is alive.
    var replacedLease: Lease?

    init(settings: Settings, node: String, layout: KeyLayout, store: ConfigStore, progress: ProgressMonitor,
         tick: Double, logger: Logger, mailbox: Mailbox<Agent.Message>, makeValue: @escaping () -> [UInt8]) {
        self.settings = settings
        self.progress = progress
        heartbeatKey = layout.heartbeat(node)
        let endpoints = settings.etcd.endpoints, timeout = settings.etcd.requestTimeoutSec
        workClient = EtcdClient(endpoints: endpoints, requestTimeout: timeout)
        session = LeaseSession(client: EtcdClient(endpoints: endpoints, requestTimeout: timeout),
                               ttl: Int64(settings.agent.leaseTTLSec), key: heartbeatKey, progress: progress, tick: tick,
                               makeValue: makeValue, onChange: { mailbox.post(.session($0)) })
        watchers = [
            ConfigWatcher(client: EtcdClient(endpoints: endpoints, requestTimeout: timeout), key: layout.config(node),
                          source: .node, store: store, progress: progress, tick: tick, logger: logger,
                          onChange: { mailbox.post(.config($0)) }),
            ConfigWatcher(client: EtcdClient(endpoints: endpoints, requestTimeout: timeout), key: layout.defaultConfig,
                          source: .fleetDefault, store: store, progress: progress, tick: tick, logger: logger,
                          onChange: { mailbox.post(.config($0)) }),
        ]
    }

    func start() {
        progress.register(LeaseSession.workerName)
        threads.append(WorkerThread(name: LeaseSession.workerName) { [session] in session.run() })
        for watcher in watchers {
            progress.register(watcher.workerName)
            threads.append(WorkerThread(name: watcher.workerName) { watcher.run() })
        }
        threads.forEach { $0.start() }
    }

    /// Stops the threads and returns the lease still held, without revoking it.
    func detach() -> Lease? {
        watchers.forEach { $0.stop() }
        session.stop()
        // Bounded: a thread inside a request finishes it within the request timeout.
        for t in threads { t.join(timeout: 0.3) }
        return session.currentLease
    }

    /// Clean stop: threads down, registry marked stopped, heartbeat re-put with status "stopping" (so the
    /// server reports LEFT, not DEAD), lease revoked (the key goes at once).
    /// Short timeouts keep the whole stop under a second when etcd is gone.
    /// Returns whether the lease was revoked.
    func shutdown(registry: (key: String, value: [UInt8])?, markStopping: () -> [UInt8]) -> Bool {
        let lease = detach()
        let quick = EtcdClient(endpoints: settings.etcd.endpoints, requestTimeout: 0.25)
        // The registry says "stopped" first: the server sees it before the delete.
        if let registry { _ = try? quick.put(registry.key, value: registry.value) }
        guard let lease else { return false }
        do {
            try quick.put(heartbeatKey, value: markStopping(), lease: lease.id)
            try quick.revoke(lease.id)
            return true
        } catch {
            return false
        }
    }

    /// After a reload under the same node name: the key now hangs on the new
    /// lease, so revoking the old one deletes nothing.
    func revokeReplacedLease(logger: Logger) {
        guard let old = replacedLease else { return }
        replacedLease = nil
        do { try workClient.revoke(old.id) } catch {
            logger.info("revoking replaced lease \(LeaseSession.hex(old.id)) failed (\(error)); it expires by itself, ignoring")
        }
    }
}
