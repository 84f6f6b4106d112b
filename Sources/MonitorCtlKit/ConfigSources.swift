import FleetModel

/// Which config keys exist: where each node's config comes from, from the keys
/// of one read of the prefix (`status -o wide`, `config list`).
struct ConfigSources {
    /// Nodes with a key of their own under `<prefix>/config/`.
    let own: Set<String>
    /// Whether `<prefix>/config/default` exists.
    let hasDefault: Bool

    init(keys: some Sequence<String>, layout: KeyLayout) {
        var own = Set<String>(), hasDefault = false
        for key in keys where key.hasPrefix(layout.configPrefix) {
            let name = String(key.dropFirst(layout.configPrefix.count))
            if name == "default" { hasDefault = true } else if !name.isEmpty { own.insert(name) }
        }
        (self.own, self.hasDefault) = (own, hasDefault)
    }

    /// "node" (its own key), "default" (the default key) or "built-in" (neither:
    /// the agent's built-in defaults).
    func source(of node: String) -> String {
        own.contains(node) ? "node" : hasDefault ? "default" : "built-in"
    }
}
