import Concurrency
import FleetModel
import ProcFS
import FleetModel
import MonitorSettings

/// The config in force, shared by the config watches (writers) and the work loop
/// and keepalive thread (readers) under one reader-writer lock. Holds the last
/// good patch of each source: the node's own key overrides the default key field
/// by field, and a rejected value never replaces a good one.
public final class ConfigStore: @unchecked Sendable {
    public enum Source: String, Sendable {
        case node, fleetDefault = "default"
    }

    /// What a change did, for the one log line that says so.
    public struct Change: Sendable {
        public let old: AgentConfig
        public let new: AgentConfig
    }

    private let lock = ReadWriteLock()
    private var patches: [Source: AgentConfigPatch] = [:]
    private var errors: [Source: String] = [:]
    private var effective = AgentConfig.default

    public init() {}

    public var config: AgentConfig { lock.read { effective } }

    /// The rejection reasons in force, e.g. "/monitor/config/n1: "interval": expected ...".
    public var configError: String? {
        lock.read {
            let text = [Source.node, .fleetDefault].compactMap { errors[$0] }.joined(separator: "; ")
            return text.isEmpty ? nil : text
        }
    }

    /// Sets (or with nil, removes) a source's patch; returns the change, nil when
    /// the effective config stayed the same. Clears that source's error.
    @discardableResult
    public func set(_ source: Source, _ patch: AgentConfigPatch?) -> Change? {
        lock.write {
            errors[source] = nil
            patches[source] = patch
            let old = effective
            var merged = AgentConfig.default
            if let p = patches[.fleetDefault] { merged = merged.applying(p) }
            if let p = patches[.node] { merged = merged.applying(p) }
            effective = merged
            return old == merged ? nil : Change(old: old, new: merged)
        }
    }

    /// Records why a source's latest value was rejected; the last good patch stays.
    public func reject(_ source: Source, reason: String) {
        lock.write { errors[source] = reason }
    }
}
