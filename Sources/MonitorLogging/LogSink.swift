import Glibc
import Logging

/// Where a daemon's log records go, chosen once at start-up.
///
/// `sd_journal_sendv` reports success even when no journald exists, so its
/// result cannot choose; the environment does (see ``detect(journalSocketPath:)``).
public enum LogSink: Equatable, Sendable {
    /// Native structured records through ``JournalLogHandler``.
    case journal
    /// Plain lines through ``StderrLogHandler``; without timestamps when
    /// stderr is itself a journal stream (journald stamps each line).
    case stderr(timestamps: Bool)

    /// The socket journald receives native records on.
    public static let defaultJournalSocketPath = "/run/systemd/journal/socket"

    /// Environment variable that forces the sink: `journal` or `stderr`
    /// (case-insensitive), for tests and debugging. Other values are ignored.
    public static let overrideVariable = "MONITOR_LOG"

    /// Chooses the sink from the environment.
    ///
    /// 1. `MONITOR_LOG=journal` → ``journal``; `MONITOR_LOG=stderr` → ``stderr(timestamps:)``.
    /// 2. ``journal`` when `$JOURNAL_STREAM` equals stderr's `st_dev:st_ino`
    ///    (systemd connected our stderr to journald, so we run under it and
    ///    nobody redirected stderr since) and the journal socket is writable.
    /// 3. Otherwise ``stderr(timestamps:)``, with timestamps unless stderr is
    ///    a journal stream.
    ///
    /// - Parameter journalSocketPath: the native socket; tests pass another path.
    public static func detect(journalSocketPath: String = defaultJournalSocketPath) -> LogSink {
        let stderrIsJournal = stderrIsJournalStream()
        switch forcedByEnvironment() {
        case .journal?: return .journal
        case .stderr?: return .stderr(timestamps: !stderrIsJournal)
        case nil: break
        }
        if stderrIsJournal && access(journalSocketPath, W_OK) == 0 {
            return .journal
        }
        return .stderr(timestamps: !stderrIsJournal)
    }

    /// The sink `MONITOR_LOG` forces, or `nil` when it is unset or not understood.
    static func forcedByEnvironment() -> LogSink? {
        guard let raw = getenv(overrideVariable) else { return nil }
        switch String(cString: raw).lowercased() {
        case "journal": return .journal
        case "stderr": return .stderr(timestamps: true)
        default: return nil
        }
    }

    /// The value of `MONITOR_LOG` if it is set but neither `journal` nor `stderr`.
    static func unrecognizedOverride() -> String? {
        guard let raw = getenv(overrideVariable) else { return nil }
        let value = String(cString: raw)
        return forcedByEnvironment() == nil ? value : nil
    }

    /// Whether `$JOURNAL_STREAM` (`<device>:<inode>`, decimal) names fd 2.
    static func stderrIsJournalStream() -> Bool {
        guard let raw = getenv("JOURNAL_STREAM") else { return false }
        let parts = String(cString: raw).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// A handler for this sink.
    public func makeHandler(
        identifier: String,
        logLevel: Logger.Level,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> any LogHandler {
        switch self {
        case .journal:
            return JournalLogHandler(identifier: identifier, logLevel: logLevel, metadataProvider: metadataProvider)
        case .stderr(let timestamps):
            return StderrLogHandler(logLevel: logLevel, timestamps: timestamps, metadataProvider: metadataProvider)
        }
    }
}
