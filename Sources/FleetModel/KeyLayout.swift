/// Where everything lives in etcd, under one prefix (default `/monitor`):
/// `<prefix>/heartbeat/<node>` (leased), `<prefix>/config/<node>`,
/// `<prefix>/config/default`, `<prefix>/nodes/<node>` (registry, no lease),
/// `<prefix>/state/<node>` (the leading server's judgement, `NodeState`) and
/// `<prefix>/leader` (the leading server, under its election lease).
public struct KeyLayout: Equatable, Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
    }

    public var heartbeatPrefix: String { prefix + "/heartbeat/" }
    public var configPrefix: String { prefix + "/config/" }
    public var nodesPrefix: String { prefix + "/nodes/" }
    public var statePrefix: String { prefix + "/state/" }
    /// Held by the leading monitor-serverd under its election lease.
    public var leader: String { prefix + "/leader" }
    /// The config every node without its own key uses.
    public var defaultConfig: String { configPrefix + "default" }

    public func heartbeat(_ node: String) -> String { heartbeatPrefix + node }
    public func config(_ node: String) -> String { configPrefix + node }
    public func registry(_ node: String) -> String { nodesPrefix + node }
    public func state(_ node: String) -> String { statePrefix + node }

    /// The node a heartbeat key belongs to; nil for keys outside the prefix or
    /// with an empty name.
    public func node(fromHeartbeatKey key: String) -> String? { node(key, under: heartbeatPrefix) }
    public func node(fromRegistryKey key: String) -> String? { node(key, under: nodesPrefix) }
    public func node(fromStateKey key: String) -> String? { node(key, under: statePrefix) }

    private func node(_ key: String, under folder: String) -> String? {
        guard key.hasPrefix(folder) else { return nil }
        let name = String(key.dropFirst(folder.count))
        return name.isEmpty ? nil : name
    }
}
