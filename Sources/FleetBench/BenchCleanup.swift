import Concurrency

/// What a bench run started and must stop even when it is interrupted: the
/// executable's signal thread runs these (newest first) on SIGINT or SIGTERM.
public enum BenchCleanup {
    private static let actions = Locked<[(id: Int, action: @Sendable () -> Void)]>([])
    private static let counter = Locked(0)

    /// Registers `action`; returns a token for `done`.
    public static func register(_ action: @escaping @Sendable () -> Void) -> Int {
        let id = counter.withLock { $0 += 1; return $0 }
        actions.withLock { $0.append((id, action)) }
        return id
    }

    /// The action ran normally; no need to run it again.
    public static func done(_ id: Int) {
        actions.withLock { $0.removeAll { $0.id == id } }
    }

    public static func runAll() {
        let all = actions.withLock { a in defer { a.removeAll() }; return a }
        for entry in all.reversed() { entry.action() }
    }
}
