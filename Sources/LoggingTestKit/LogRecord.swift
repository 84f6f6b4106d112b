import Concurrency
import Logging
import MonitorLogging

/// One captured log call, as ``MemoryLogHandler`` stores it.
public struct LogRecord: Equatable, Sendable {
    public let level: Logger.Level
    public let message: String
    /// Merged metadata (order on ``MemoryLogHandler``), values flattened to text.
    public let metadata: [String: String]

    public init(level: Logger.Level, message: String, metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}
