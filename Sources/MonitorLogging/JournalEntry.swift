import CSystemd
import Glibc
import Logging

/// One structured journal record: its fields in send order, and the send.
///
/// A value built from one log call and dropped after ``send()``. Fields are
/// `PRIORITY`, `SYSLOG_IDENTIFIER` (when not empty), `MESSAGE`, the call's
/// `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` (when known), then one field per
/// metadata entry sorted by field name. Values may hold any bytes,
/// newlines included: `sd_journal_sendv` takes lengths, not C strings.
public struct JournalEntry: Equatable, Sendable {
    public struct Field: Equatable, Sendable, CustomStringConvertible {
        public let name: String
        public let value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }

        public var description: String { "\(name)=\(value)" }
    }

    /// Where the log call is in the source, as swift-log passes it (`#fileID`,
    /// `#function`, `#line`): journald's CODE_FILE, CODE_FUNC, CODE_LINE, the
    /// fields systemd's own `sd_journal_print` macros send, so `journalctl
    /// CODE_FILE=MonitorServer/ServerDaemon.swift` finds a call site's records.
    public struct CodeLocation: Equatable, Sendable {
        public let file: String
        public let function: String
        public let line: UInt

        public init(file: String, function: String, line: UInt) {
            self.file = file
            self.function = function
            self.line = line
        }
    }

    public let fields: [Field]

    /// Builds the record for one log call.
    ///
    /// Metadata keys become field names through
    /// ``JournalFieldName/make(fromMetadataKey:)``; keys without a valid name
    /// are dropped. When two keys map to the same name ("a.b", "a_b"), the
    /// key that sorts last wins, so the outcome does not depend on dictionary
    /// order. A `MESSAGE_ID` that is not 32 lowercase hex digits is dropped:
    /// journalctl would treat it as a catalog id.
    public init(
        level: Logger.Level, message: String, identifier: String, metadata: [String: String], code: CodeLocation? = nil
    ) {
        var fields = [Field(name: "PRIORITY", value: String(Self.priority(for: level)))]
        if !identifier.isEmpty {
            fields.append(Field(name: "SYSLOG_IDENTIFIER", value: identifier))
        }
        fields.append(Field(name: "MESSAGE", value: message))
        if let code {
            fields.append(Field(name: "CODE_FILE", value: code.file))
            fields.append(Field(name: "CODE_LINE", value: String(code.line)))
            fields.append(Field(name: "CODE_FUNC", value: code.function))
        }

        var byName: [String: String] = [:]
        for key in metadata.keys.sorted() {
            guard let name = JournalFieldName.make(fromMetadataKey: key), let value = metadata[key] else { continue }
            if name == "MESSAGE_ID" && !Self.isValidMessageID(value) { continue }
            byName[name] = value
        }
        for name in byName.keys.sorted() {
            fields.append(Field(name: name, value: byName[name]!))
        }
        self.fields = fields
    }

    /// The syslog priority journald stores for a swift-log level.
    ///
    /// swift-log has no alert (1) or emergency (0); trace has no syslog
    /// counterpart and shares debug's 7.
    public static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Whether `value` is a journal message id: exactly 32 lowercase hex digits.
    public static func isValidMessageID(_ value: String) -> Bool {
        let bytes = value.utf8
        return bytes.count == 32 && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Sends the record with `sd_journal_sendv`.
    ///
    /// Without a journald socket libsystemd reports success and drops the
    /// record, so success does not prove delivery (``LogSink/detect(journalSocketPath:)``
    /// decides whether journald is there).
    ///
    /// - Throws: ``JournalSendError`` when journald rejected or could not take the record.
    public func send() throws {
        let result = withIOVecs { iovecs in
            sd_journal_sendv(iovecs.baseAddress, Int32(iovecs.count))
        }
        if result < 0 {
            throw JournalSendError(errno: -result)
        }
    }

    /// Calls `body` with one `iovec` per field, each pointing at `NAME=value`.
    ///
    /// All fields live in one byte buffer for the duration of `body`, so the
    /// pointers stay valid exactly as long as libsystemd needs them.
    func withIOVecs<Result>(_ body: (UnsafeBufferPointer<iovec>) throws -> Result) rethrows -> Result {
        var storage: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = storage.count
            storage.append(contentsOf: field.name.utf8)
            storage.append(UInt8(ascii: "="))
            storage.append(contentsOf: field.value.utf8)
            ranges.append(start..<storage.count)
        }
        return try storage.withUnsafeBufferPointer { bytes in
            // Never empty: PRIORITY is always present.
            let base = UnsafeMutableRawPointer(mutating: bytes.baseAddress!)
            let iovecs = ranges.map { iovec(iov_base: base + $0.lowerBound, iov_len: $0.count) }
            return try iovecs.withUnsafeBufferPointer(body)
        }
    }
}

/// `sd_journal_sendv` returned a negative errno: journald rejected the record or
/// could not take it.
public struct JournalSendError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The positive errno value (libsystemd returns it negated).
    public let errno: Int32

    public var description: String {
        "sd_journal_sendv failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
