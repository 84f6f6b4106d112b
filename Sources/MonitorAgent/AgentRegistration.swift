import Concurrency
import DaemonKit
import EtcdClient
import FleetModel
import MonitorSettings

/// The threads of one registration of the agent: the lease session, the watch
/// of its own heartbeat key and the two config watches, each with its own etcd client (a keepalive never queues
/// behind a slow put), plus the loop's client for puts. Built from one settings
/// snapshot and one generation; every message its threads post carries that
/// generation. A reload that changes etcd or agent settings builds a new one.
/// Ends with `detach()` (threads stopped, newest first, lease kept) or `shutdown`.
final class AgentRegistration {
    static let sessionWorker = "keepalive"

    let generation: Int
    let client: EtcdClient
    let session: LeaseSession
    private let settings: Settings
    private let workers: WorkerGroup<AgentMessage>
    /// A lease of the previous registration to revoke once this one is alive.
    var replacedLease: Lease?
    /// TLS files and the etcd user, shared by this registration's clients.
    private let access: EtcdAccess?

    init(settings: Settings, node: String, layout: KeyLayout, generation: Int, context: DaemonContext<AgentMessage>) {
        self.settings = settings
        self.generation = generation
        let endpoints = settings.etcd.endpoints, timeout = settings.etcd.requestTimeoutSec
        // Every answer to a put or keepalive tells the watches their member is
        // alive, so they probe it only in longer silences.
        let liveness = MemberLiveness()
        let probe = WatchProbe(liveness: liveness)
        let c = settings.etcd.credentials
        let access = EtcdAccess.of(caFile: c.caFile, certFile: c.certFile, keyFile: c.keyFile, username: c.username,
                                   password: c.password?.value)
        self.access = access
        func newClient() -> EtcdClient {
            EtcdClient(endpoints: endpoints, requestTimeout: timeout, liveness: liveness, access: access)
        }
        client = newClient()
        let workers = context.makeWorkers()
        self.workers = workers
        session = LeaseSession(client: newClient(),
                               ttl: Int64(settings.agent.leaseTTLSec), tick: context.workerTick,
                               beat: { workers.beat(Self.sessionWorker) },
                               report: { workers.post(.session(generation: generation, $0)) })
        let session = self.session
        workers.start(Self.sessionWorker, stop: { session.stop() }) { session.run() }
        let heartbeatWatcher = HeartbeatKeyWatcher(client: newClient(), key: layout.heartbeat(node),
                                                   tick: context.workerTick, probe: probe)
        workers.start(HeartbeatKeyWatcher.workerName, stop: { heartbeatWatcher.stop() }) {
            heartbeatWatcher.run(beat: { workers.beat(HeartbeatKeyWatcher.workerName) }) {
                workers.post(.heartbeatKey(generation: generation, $0))
            }
        }
        for (source, key) in [(ConfigSource.node, layout.config(node)), (.fleetDefault, layout.defaultConfig)] {
            let watcher = ConfigWatcher(client: newClient(), key: key, source: source,
                                        tick: context.workerTick, probe: probe)
            let name = watcher.workerName
            workers.start(name, stop: { watcher.stop() }) {
                watcher.run(beat: { workers.beat(name) }) { workers.post(.config(generation: generation, source, $0)) }
            }
        }
    }

    /// Stops the threads (newest first, bounded: a thread inside a request
    /// finishes it within the request timeout) and returns the lease still
    /// held, without revoking it. Names the threads that did not end in time.
    func detach() -> (lease: Lease?, late: [String]) {
        let late = workers.stopAll(deadline: .now() + 0.3)
        return (session.currentLease, late)
    }

    /// A client with short timeouts, so a clean stop stays under a second when etcd is gone.
    func quickClient() -> EtcdClient {
        EtcdClient(endpoints: settings.etcd.endpoints, requestTimeout: 0.25, access: access)
    }
}
