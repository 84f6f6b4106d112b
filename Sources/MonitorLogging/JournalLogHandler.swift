import Glibc
import Logging

/// swift-log backend that sends structured records natively to journald.
///
/// A value like every swift-log handler: copies own their level and
/// metadata. Each log call becomes one ``JournalEntry``: PRIORITY from the
/// level, SYSLOG_IDENTIFIER, MESSAGE, CODE_FILE/CODE_LINE/CODE_FUNC from the
/// call's source location, and one field per metadata entry,
/// merged in the order documented on ``MetadataMerge`` (handler metadata,
/// then the metadata provider, then per-call metadata; later wins). The
/// logger label is not sent: the identifier names the daemon, and metadata
/// carries the context.
///
/// Use it only when ``LogSink/detect(journalSocketPath:)`` found journald:
/// `sd_journal_sendv` silently drops records when there is none.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// SYSLOG_IDENTIFIER of every record, e.g. "monitor-agentd".
    public let identifier: String

    public init(identifier: String, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.identifier = identifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let entry = entry(for: event)
        do {
            try entry.send()
        } catch {
            // Logging must not throw or log about itself. Under systemd stderr
            // normally reaches the journal too, so the record is not lost.
            let flat = MetadataMerge.flattened(handler: metadata, provider: metadataProvider, event: event)
            StderrLogHandler.write(
                StderrLogHandler.format(timestamp: nil, level: event.level, message: event.message.description, metadata: flat)
                    + " journal_error=\(StderrLogHandler.quotedIfNeeded("\(error)"))\n",
                to: STDERR_FILENO
            )
        }
    }

    /// The record ``log(event:)`` sends for `event` (tests look at it without journald).
    public func entry(for event: LogEvent) -> JournalEntry {
        JournalEntry(
            level: event.level,
            message: event.message.description,
            identifier: identifier,
            metadata: MetadataMerge.flattened(handler: metadata, provider: metadataProvider, event: event),
            code: JournalEntry.CodeLocation(file: event.file, function: event.function, line: event.line)
        )
    }
}
