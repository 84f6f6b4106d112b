import Concurrency
import Logging

/// Wraps a sink's handler so that every logger of the process follows one level
/// that can change at run time (SIGHUP re-reads `[Log] Level`). Owns nothing but
/// the wrapped handler; the level lives in `LoggingBootstrap`.
struct SharedLevelLogHandler: LogHandler {
    var inner: any LogHandler
    let level: Locked<Logger.Level>

    var logLevel: Logger.Level {
        get { level.withLock { $0 } }
        // A logger that sets its own level changes the process-wide one: there is
        // only one knob, the settings file.
        set { level.withLock { $0 = newValue } }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
