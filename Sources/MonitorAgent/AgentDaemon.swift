import Concurrency
import DaemonKit
import EtcdClient
import FleetModel
import Logging
import MonitorSettings
import ProcFS

/// monitor-agentd's daemon, run by the `Supervisor`: the only place the agent
/// performs I/O. `AgentState` decides; this class carries out its effects (puts,
/// registry writes, revokes, collection, log lines) with the current
/// registration's clients. Owns the state, the metrics collector and the
/// current `AgentRegistration`. Ends with `stop()`: heartbeat marked stopping,
/// registry marked stopped, lease revoked, within a second even without etcd.
public final class AgentDaemon: Daemon {
    public typealias Message = AgentMessage

    public struct Options: Sendable {
        public var hostname: String
        public var procRoot: String
        /// Where this machine's ID is read (`/etc/machine-id`).
        public var machineIDFile: String

        public static let machineIDPath = "/etc/machine-id"

        public init(hostname: String, procRoot: String = "/proc", machineIDFile: String = Options.machineIDPath) {
            self.hostname = hostname
            self.procRoot = procRoot
            self.machineIDFile = machineIDFile
        }
    }

    public static let workLoop = "work loop"

    private var settings: Settings
    private let options: Options
    private var logger: Logger
    private let context: DaemonContext<AgentMessage>
    private var state: AgentState
    private let collector: MetricsCollector
    private var registration: AgentRegistration?
    /// What this start wrote to the registry; nil until written.
    private var registryRecord: NodeRecord?
    /// This boot (`/proc/sys/kernel/random/boot_id`), for the registry record.
    private let bootID: String?

    public init(settings: Settings, options: Options, logger: Logger, context: DaemonContext<AgentMessage>) {
        self.settings = settings
        self.options = options
        self.logger = logger
        self.context = context
        let node = settings.resolvedNodeName(hostname: options.hostname)
        // Every record of this agent names its node (journald field NODE).
        self.logger[metadataKey: "node"] = "\(node)"
        state = AgentState(node: node, layout: KeyLayout(prefix: settings.etcd.keyPrefix),
                           endpoints: settings.etcd.endpoints, now: .now())
        state.machineID = Self.readID(options.machineIDFile)
        bootID = Self.readID(options.procRoot + "/sys/kernel/random/boot_id")
        collector = MetricsCollector(procRoot: options.procRoot)
    }

    /// A systemd ID file's 128-bit ID as 32 lowercase hex digits (boot_id has
    /// dashes); nil when missing or not an ID, and the agent then cannot tell
    /// machines apart (it takes a held name over, as agents before it did).
    static func readID(_ path: String) -> String? {
        var reader = ProcFileReader()
        guard let text = try? reader.read(path), text.utf8.count <= 64 else { return nil }
        let id = text.filter { $0 != "-" && !$0.isWhitespace }.lowercased()
        return id.count == 32 && id.allSatisfy({ $0.isHexDigit }) ? id : nil
    }

    public func start(now: MonotonicInstant) {
        collector.prime(state.selection.metrics)
        register()
        logger.info("monitor-agentd \(MonitorVersion.string) started as node \(state.node), etcd \(settings.etcd.endpoints.joined(separator: ","))",
                    metadata: ["node": "\(state.node)", "event": "STARTED"])
    }

    public func handle(_ message: AgentMessage, now: MonotonicInstant) {
        perform(state.handle(message, now: now))
    }

    public var nextDeadline: MonotonicInstant? { state.nextDeadline }

    public func deadlineReached(now: MonotonicInstant) {
        perform(state.claimDue(now: now))
        perform(state.roundDue(now: now))
    }

    public var status: String { state.statusLine }

    // MARK: Effects

    private func perform(_ effects: [AgentEffect]) {
        var queue = effects[...]
        while let effect = queue.popFirst() {
            switch effect {
            case let .log(line):
                logger.log(level: line.level, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
            case .collect:
                queue.append(contentsOf: state.roundCollected(collector.collect(state.selection.metrics)))
            case .putHeartbeat:
                putHeartbeat()
            case let .restoreHeartbeat(what):
                if putHeartbeat() { queue.append(contentsOf: state.heartbeatRestored(what: what)) }
            case .writeRegistry:
                writeRegistry()
            case .revokeReplacedLease:
                revokeReplacedLease()
            case .claimName:
                queue.append(contentsOf: state.nameClaimed(claimName(), now: .now()))
            case let .prime(metrics):
                collector.prime(metrics)
            }
        }
    }

    /// Puts the heartbeat with the latest figures, attached to the lease: the
    /// only etcd write of a round.
    /// Returns whether the put went through.
    @discardableResult
    private func putHeartbeat() -> Bool {
        guard let registration, let lease = state.lease, state.holdsName else { return false }
        let value = state.heartbeat(status: Heartbeat.alive, wallTime: WallClock.now(), hostname: options.hostname)
        do {
            let revision = try registration.client.put(state.layout.heartbeat(state.node), value: value.encoded(), lease: lease.id)
            logger.debug("round \(state.seq): heartbeat put", metadata: ["event": "ROUND", "lease_id": "\(AgentState.hex(lease.id))"])
            perform(state.heartbeatPutSucceeded(revision: revision))
            return true
        } catch EtcdError.leaseLost {
            registration.session.leaseSuspect()
        } catch let error as EtcdError where error.isNoSpace {
            perform(state.heartbeatPutFailed(error))
        } catch {
            // The session notices the outage too and reports it once.
            logger.debug("round \(state.seq): heartbeat put failed: \(error), ignoring")
        }
        return false
    }

    /// Who holds the heartbeat key now (see `NameClaim`). When etcd cannot be
    /// asked, the name counts as free: the put that follows fails the same way.
    private func claimName() -> NameClaim {
        guard let registration, let lease = state.lease else { return .free }
        guard let kv = try? registration.client.range(state.layout.heartbeat(state.node)).kvs.first,
              kv.lease != 0, kv.lease != lease.id, kv.lease != registration.replacedLease?.id,
              let holder = (try? Heartbeat.parse(kv.value))?.machineID, let own = state.machineID, holder != own
        else { return .free }
        return .heldBy(machineID: holder, lease: kv.lease)
    }

    /// Registers the node in `<prefix>/nodes/<node>` (no lease): once per start,
    /// so a node that dies stays known as dead. Retried at the next registration.
    private func writeRegistry() {
        guard let client = registration?.client else { return }
        let key = state.layout.registry(state.node)
        do {
            var previous: NodeRecord?
            if let kv = try client.range(key).kvs.first {
                do { previous = try NodeRecord.parse(kv.value) } catch {
                    logger.info("registry \(key) unreadable (\(error)); writing a fresh record, ignoring")
                }
            }
            let record = NodeRecord.started(node: state.node, hostname: options.hostname, version: MonitorVersion.string,
                                            at: WallClock.now(), previous: previous, machineID: state.machineID, bootID: bootID)
            try client.put(key, value: record.encoded())
            registryRecord = record
            state.registryWasWritten()
        } catch {
            logger.info("registry \(key) not written (\(error)); retrying at the next registration")
        }
    }

    /// After a reload under the same node name: the key now hangs on the new
    /// lease, so revoking the old one deletes nothing.
    private func revokeReplacedLease() {
        guard let registration, let old = registration.replacedLease else { return }
        registration.replacedLease = nil
        do { try registration.client.revoke(old.id) } catch {
            logger.info("revoking replaced lease \(AgentState.hex(old.id)) failed (\(error)); it expires by itself, ignoring")
        }
    }

    // MARK: Lifecycle

    private func register() {
        registration = AgentRegistration(settings: settings, node: state.node, layout: state.layout,
                                         generation: state.generation, context: context)
    }

    /// Detaches the current registration and leaves cleanly: registry marked
    /// stopped first (the server sees it before the delete), heartbeat re-put
    /// with status "stopping" (LEFT, not DEAD), lease revoked (the key goes at
    /// once). Returns whether the lease was revoked.
    private func leave() -> Bool {
        guard let registration else { return false }
        let (lease, late) = registration.detach()
        self.registration = nil
        if !late.isEmpty { logger.info("\(late.joined(separator: ", ")) did not end within 0.3 s; leaving it behind, ignoring") }
        let quick = registration.quickClient()
        // The name held by another machine: its keys are not ours to mark.
        guard state.holdsName || state.nameHeldBy == nil else {
            if let lease { try? quick.revoke(lease.id) }
            return false
        }
        if let record = registryRecord {
            let key = state.layout.registry(state.node)
            do { try quick.put(key, value: record.stopping(at: WallClock.now()).encoded()) } catch {
                logger.info("registry \(key) not marked stopped (\(error)); the server may report DEAD, ignoring")
            }
        }
        guard let lease else { return false }
        do {
            let value = state.heartbeat(status: Heartbeat.stopping, wallTime: WallClock.now(), hostname: options.hostname)
            try quick.put(state.layout.heartbeat(state.node), value: value.encoded(), lease: lease.id)
            try quick.revoke(lease.id)
            return true
        } catch {
            logger.info("leaving cleanly failed (\(error)); the lease expires by itself, ignoring")
            return false
        }
    }

    public func stop() {
        let revoked = leave()
        logger.notice("stopped\(revoked ? ": heartbeat marked stopping, lease revoked" : " (etcd unreachable, lease left to expire)")",
                      metadata: ["node": "\(state.node)", "event": "STOPPED"])
    }

    /// SIGHUP: re-register only when etcd or agent settings changed.
    public func reload(_ new: Settings, now: MonotonicInstant) {
        let path = context.settingsPath
        guard new.etcd != settings.etcd || new.agent != settings.agent else {
            settings = new
            logger.notice("settings reloaded from \(path); nothing to re-register", metadata: ["event": "RELOADED"])
            return
        }
        let newNode = new.resolvedNodeName(hostname: options.hostname)
        logger.notice("settings reloaded from \(path); re-registering (node \(state.node) -> \(newNode), etcd \(new.etcd.endpoints.joined(separator: ",")), TTL \(new.agent.leaseTTLSec)s)",
                      metadata: ["event": "RELOADED"])
        var carried: Lease?
        if newNode != state.node {
            // The old name leaves cleanly: its key is marked and deleted now.
            _ = leave()
            registryRecord = nil
        } else {
            // Same name: the new lease takes the key over, then the old lease goes.
            let (lease, late) = registration?.detach() ?? (nil, [])
            if !late.isEmpty { logger.info("\(late.joined(separator: ", ")) did not end within 0.3 s; leaving it behind, ignoring") }
            carried = lease
            registration = nil
        }
        settings = new
        logger[metadataKey: "node"] = "\(newNode)"
        _ = state.reregister(node: newNode, layout: KeyLayout(prefix: new.etcd.keyPrefix), endpoints: new.etcd.endpoints)
        register()
        registration?.replacedLease = carried
    }
}
