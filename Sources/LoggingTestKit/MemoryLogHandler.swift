import Concurrency
import Logging
import MonitorLogging

/// swift-log backend that captures records in a ``LogRecordStore`` so tests
/// can assert on what was logged.
///
/// A value like every swift-log handler; all copies append to the same store.
/// Metadata is merged like the real handlers do (handler metadata, then the
/// metadata provider, then per-call metadata; later wins), so assertions see
/// what the journal would. Needs no `LoggingSystem.bootstrap`:
///
/// ```swift
/// let (logger, store) = MemoryLogHandler.makeLogger(label: "test")
/// codeUnderTest(logger: logger)
/// XCTAssertEqual(store.messages(at: .warning), ["etcd unreachable, retrying"])
/// ```
public struct MemoryLogHandler: LogHandler {
    public let store: LogRecordStore
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(store: LogRecordStore, logLevel: Logger.Level = .trace, metadataProvider: Logger.MetadataProvider? = nil) {
        self.store = store
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    /// A logger writing into a new store, and that store.
    public static func makeLogger(
        label: String,
        level: Logger.Level = .trace,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> (logger: Logger, store: LogRecordStore) {
        let store = LogRecordStore()
        let logger = Logger(label: label) { _ in
            MemoryLogHandler(store: store, logLevel: level, metadataProvider: metadataProvider)
        }
        return (logger, store)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        store.append(LogRecord(
            level: event.level,
            message: event.message.description,
            metadata: MetadataMerge.flattened(handler: metadata, provider: metadataProvider, event: event)
        ))
    }
}
