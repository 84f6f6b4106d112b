import Concurrency
import Logging
import MonitorLogging

/// The records captured by one or more ``MemoryLogHandler``s, in call order.
///
/// Shared by reference between a test and the loggers it hands to the code
/// under test; safe to use from any thread. Grows until ``removeAll()`` or
/// until the last reference goes.
public final class LogRecordStore: Sendable {
    private let captured = Locked<[LogRecord]>([])

    public init() {}

    /// Every record so far.
    public var records: [LogRecord] {
        captured.withLock { $0 }
    }

    /// The messages logged at `level`, in order.
    public func messages(at level: Logger.Level) -> [String] {
        captured.withLock { $0.filter { $0.level == level }.map(\.message) }
    }

    /// The records whose message contains `text`.
    public func records(containing text: String) -> [LogRecord] {
        captured.withLock { $0.filter { $0.message.contains(text) } }
    }

    public func append(_ record: LogRecord) {
        captured.withLock { $0.append(record) }
    }

    public func removeAll() {
        captured.withLock { $0.removeAll() }
    }
}
