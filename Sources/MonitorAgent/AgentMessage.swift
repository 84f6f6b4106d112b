import EtcdClient

/// What the agent's workers tell its loop. Every message carries the
/// registration generation that sent it: after a reload re-registers, a late
/// message of the old registration's threads is recognised and dropped instead
/// of overwriting the new registration's state.
public enum AgentMessage: Sendable, Equatable {
    case session(generation: Int, SessionEvent)
    case config(generation: Int, ConfigSource, ConfigEvent)
    /// The node's own heartbeat key changed (a put at `revision`, or a delete):
    /// the agent tells its own writes from another writer's.
    case heartbeatKey(generation: Int, HeartbeatKeyEvent)
}

/// A change of the node's heartbeat key, as its watch saw it.
public enum HeartbeatKeyEvent: Sendable, Equatable {
    /// `machineID`: the machine the value says wrote it (nil: unreadable or not said).
    case put(revision: Int64, lease: Int64, machineID: String?)
    case deleted(revision: Int64)
}

/// Who holds the node's heartbeat key when a new lease wants it.
public enum NameClaim: Sendable, Equatable {
    /// Nobody, or nobody that counts: absent, without a lease, under one of this
    /// agent's own leases, written by this machine (a previous incarnation) or
    /// by an agent that does not say its machine.
    case free
    /// A live lease of another machine holds it.
    case heldBy(machineID: String, lease: Int64)
}

/// Which config key a message is about: the node's own, or the fleet default.
public enum ConfigSource: String, Sendable, Equatable, CaseIterable {
    case node
    case fleetDefault = "default"
}

/// What a config watch observed on its key.
public enum ConfigEvent: Sendable, Equatable {
    /// The key's whole current value (nil: absent): the first read, and the read
    /// again after compaction.
    case read(key: String, value: [UInt8]?, revision: Int64)
    /// A put (value) or delete (nil) of the key.
    case changed(key: String, value: [UInt8]?, revision: Int64)
    case connected(key: String, endpoint: String)
    case interrupted(key: String, reason: String, retryIn: Double)
}
