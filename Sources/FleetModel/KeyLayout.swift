/// Where everything lives in etcd, under one prefix (default `/monitor`):
/// `<prefix>/heartbeat/<node>` (leased), `<prefix>/config/<node>`,
/// `<prefix>/config/default`, `<prefix>/nodes/<node>` (registry, no lease).
public struct KeyLayout: Equatable, Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
    }

    public var heartbeatPrefix: String { prefix + "/heartbeat/" }
    public var configPrefix: String { prefix + "/config/" }
    public var nodesPrefix: String { prefix + "/nodes/" }
    /// The config every node without its own key uses.
    public var defaultConfig: String { configPrefix + "default" }

    public func heartbeat(_ node: String) -> String { heartbeatPrefix + node }
    public func config(_ node: String) -> String { configPrefix + node }
    public func registry(_ node: String) -> String { nodesPrefix + node }

    /// The node a heartbeat key belongs to; nil for keys outside the prefix or
    /// with an empty name.
    public func node(fromHeartbeatKey key: String) -> String? {
        guard key.hasPrefix(heartbeatPrefix) else { return nil }
        let name = String(key.dropFirst(heartbeatPrefix.count))
        return name.isEmpty ? nil : name
    }

    public func node(fromRegistryKey key: String) -> String? {
        guard key.hasPrefix(nodesPrefix) else { return nil }
        let name = String(key.dropFirst(nodesPrefix.count))
        return name.isEmpty ? nil : name
    }
}
