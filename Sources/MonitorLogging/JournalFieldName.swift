/// The one mapping from swift-log metadata keys to journal field names.
///
/// journald accepts field names of 1-64 characters from `A-Z`, `0-9` and `_`,
/// not starting with a digit or `_` (a leading `_` marks trusted fields that
/// only journald itself may set). Every metadata key goes through
/// ``make(fromMetadataKey:)``; nothing else in the package invents field names.
public enum JournalFieldName {
    /// journald's limit on the length of a field name.
    public static let maximumLength = 64

    /// Fields ``JournalLogHandler`` sets itself; metadata must not replace or
    /// duplicate them (a metadata key "priority" would otherwise produce an
    /// invalid second PRIORITY, and a key "code_line" a second CODE_LINE
    /// that contradicts the call's own).
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
    ]

    /// The journal field name for a metadata key, or `nil` if none.
    ///
    /// 1. ASCII letters are upper-cased; every other character outside
    ///    `A-Z0-9_` becomes `_` (`error.type` → `ERROR_TYPE`,
    ///    `message_id` → `MESSAGE_ID`).
    /// 2. Leading digits and underscores are dropped rather than prefixed, so
    ///    `_pid` becomes `PID` and `2xx` becomes `XX`: a prefix such as `X_`
    ///    would make the common case ugly for a rare one.
    /// 3. The rest is cut to 64 characters.
    /// 4. `nil` when nothing remains (`"日本"`, `"__"`, `""`) or when the name
    ///    is one of ``reserved``.
    public static func make(fromMetadataKey key: String) -> String? {
        var name: [UInt8] = []
        name.reserveCapacity(min(key.utf8.count, maximumLength))
        for scalar in key.unicodeScalars {
            let mapped: UInt8
            switch scalar.value {
            case 0x61...0x7A: mapped = UInt8(scalar.value) - 0x20  // a-z
            case 0x41...0x5A, 0x30...0x39, 0x5F: mapped = UInt8(scalar.value)  // A-Z 0-9 _
            default: mapped = 0x5F  // "_"
            }
            let isLeading = name.isEmpty
            if isLeading && (mapped == 0x5F || (0x30...0x39).contains(mapped)) {
                continue
            }
            name.append(mapped)
            if name.count == maximumLength { break }
        }
        guard !name.isEmpty else { return nil }
        let result = String(decoding: name, as: UTF8.self)
        return reserved.contains(result) ? nil : result
    }

    /// Whether `name` is acceptable to journald as a client-supplied field name.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        guard (0x41...0x5A).contains(first) else { return false }
        return bytes.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }
}
