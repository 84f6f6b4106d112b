import Concurrency
import Logging

/// The one place a daemon sets up swift-log.
///
/// Owns the process-wide record of the sink chosen by the first
/// ``bootstrap(identifier:level:metadataProvider:)``; it lasts until the
/// process ends. `LoggingSystem.bootstrap` may run only once per process
/// (swift-log traps on a second call), so later calls here change nothing
/// and return the first choice. Code that calls `LoggingSystem.bootstrap`
/// itself must not also call this.
public enum LoggingBootstrap {
    private static let chosenSink = Locked<LogSink?>(nil)
    /// The level every bootstrapped logger follows; see ``setLevel(_:)``.
    private static let sharedLevel = Locked<Logger.Level>(.info)

    /// Changes the level of every logger made by the bootstrapped factory, at once.
    public static func setLevel(_ level: Logger.Level) {
        sharedLevel.withLock { $0 = level }
    }

    /// Detects the sink (``LogSink/detect(journalSocketPath:)``) and makes it
    /// the backend of every `Logger` created afterwards.
    ///
    /// - Parameters:
    ///   - identifier: SYSLOG_IDENTIFIER for journal records, e.g. "monitor-agentd".
    ///   - level: the initial `logLevel` of every handler; loggers may change theirs.
    ///   - metadataProvider: context added to every record (see ``MetadataMerge``).
    /// - Returns: the sink in use.
    @discardableResult
    public static func bootstrap(
        identifier: String,
        level: Logger.Level,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> LogSink {
        let (sink, isFirst) = chosenSink.withLock { chosen -> (LogSink, Bool) in
            if let chosen { return (chosen, false) }
            let sink = LogSink.detect()
            LoggingSystem.bootstrap(
                makeFactory(sink: sink, identifier: identifier, level: level),
                metadataProvider: metadataProvider
            )
            chosen = sink
            return (sink, true)
        }
        if isFirst, let value = LogSink.unrecognizedOverride() {
            Logger(label: identifier).warning(
                "\(LogSink.overrideVariable)=\(value) is neither journal nor stderr, ignoring",
                metadata: ["sink": "\(sink)"]
            )
        }
        return sink
    }

    /// The handler factory ``bootstrap(identifier:level:metadataProvider:)``
    /// installs; tests call it directly because bootstrapping is once per process.
    public static func makeFactory(
        sink: LogSink,
        identifier: String,
        level: Logger.Level
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        sharedLevel.withLock { $0 = level }
        return { _, metadataProvider in
            // The sink's handler passes everything; the shared level filters.
            let inner = sink.makeHandler(identifier: identifier, logLevel: .trace, metadataProvider: metadataProvider)
            return SharedLevelLogHandler(inner: inner, level: sharedLevel)
        }
    }
}
