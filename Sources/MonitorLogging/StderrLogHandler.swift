import Concurrency
import Glibc
import Logging
import SafeText

/// Plain one-line log records on standard error, for runs outside journald.
///
/// A value like every swift-log handler: copies own their level and
/// metadata. Each record is one line, written with a single `write(2)` on the
/// descriptor straight away (no stdio buffering to lose on a crash), under a
/// process-wide lock so records from different threads never interleave even
/// when the kernel takes a long line in parts. The handler never closes its
/// descriptor.
///
/// Format (``format(timestamp:level:message:metadata:)``):
/// `2024-05-01T12:34:56.789Z warning: etcd unreachable, retrying in 4s event=ALIVE node=worker1`
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Whether lines start with a UTC timestamp. Off when stderr already goes
    /// to journald, which stamps every line itself.
    public let timestamps: Bool
    /// The descriptor records go to, standard error unless a test passes a pipe.
    public let fileDescriptor: Int32

    public init(
        logLevel: Logger.Level = .info,
        timestamps: Bool = true,
        metadataProvider: Logger.MetadataProvider? = nil,
        fileDescriptor: Int32 = STDERR_FILENO
    ) {
        self.logLevel = logLevel
        self.timestamps = timestamps
        self.metadataProvider = metadataProvider
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = Self.format(
            timestamp: timestamps ? UTCTimestamp.now().description : nil,
            level: event.level,
            message: event.message.description,
            metadata: MetadataMerge.flattened(handler: metadata, provider: metadataProvider, event: event)
        )
        Self.write(line + "\n", to: fileDescriptor)
    }

    /// One record as one line, without the final newline:
    /// `[timestamp ]level: message[ key=value ...]`.
    ///
    /// Pairs are sorted by key. Control characters anywhere are escaped
    /// (`SafeText`: `\n`, `\x1b`...) so a record stays one line and a terminal
    /// shows it as written. A value that is empty or contains a space, `"`, `=` or
    /// a control character is quoted, with `"` and `\` escaped inside; so is a
    /// message with a `key=value`-like word in it.
    public static func format(timestamp: String?, level: Logger.Level, message: String, metadata: [String: String]) -> String {
        var line = ""
        if let timestamp {
            line += timestamp + " "
        }
        line += level.rawValue + ": " + (looksLikeFields(message) ? quoted(message) : SafeText.escaped(message))
        for key in metadata.keys.sorted() {
            line += " " + SafeText.escaped(key) + "=" + quotedIfNeeded(metadata[key]!)
        }
        return line
    }

    /// Whether a message has a word like `event=DEAD` in it: shown bare, it would
    /// read as one more field (a node named "x event=DEAD" must not forge one).
    /// One pass over the bytes, no allocation (every record goes through it).
    static func looksLikeFields(_ text: String) -> Bool {
        // Bytes since the word began, and whether all were letters, digits or "_".
        var length = 0, identifier = true
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: " "):
                length = 0
                identifier = true
            case UInt8(ascii: "="):
                if identifier && length > 0 { return true }
                identifier = false
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                length += 1
            default:
                identifier = false
            }
        }
        return false
    }

    static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar == " " || scalar == "\"" || scalar == "=" || SafeText.needsEscape(scalar)
        }
        return needsQuotes ? quoted(value) : value
    }

    /// `"text"`: `"` and `\` escaped with a backslash, then control characters.
    static func quoted(_ text: String) -> String {
        var inner = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": inner.append(contentsOf: #"\""#.unicodeScalars)
            case "\\": inner.append(contentsOf: #"\\"#.unicodeScalars)
            default: inner.append(scalar)
            }
        }
        return "\"" + SafeText.escaped(String(inner)) + "\""
    }

    // Serializes writers in this process: a pipe takes at most PIPE_BUF bytes
    // atomically, so without it two long records could interleave.
    private static let writeLock = Locked(())

    /// Writes `record` to `fd` with one `write(2)`, resuming only after a
    /// partial write or EINTR. Other errors drop the rest of the record:
    /// there is nowhere left to report them.
    static func write(_ record: String, to fd: Int32) {
        var bytes = Array(record.utf8)
        guard !bytes.isEmpty else { return }
        writeLock.withLock { _ in
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
