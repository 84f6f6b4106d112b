/// A /proc file whose content is not what its parser expects: which file, which
/// line, the text found there and what was wrong.
///
/// `description` is one line for the agent's log, e.g.
/// `/proc/diskstats:3: expected 7 or at least 14 fields, found 5: "8 0 sda 1 2"`.
public struct ProcParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path as given to the parser (the reader passes the real path).
    public let file: String
    /// 1-based line number; nil when the file as a whole is at fault (empty, or a
    /// required line or key is missing).
    public let line: Int?
    /// The offending line, cut to `maxTextLength` characters so a garbage file
    /// cannot flood the log.
    public let text: String
    /// What was wrong, without the `file:line: ` prefix.
    public let message: String

    public static let maxTextLength = 200

    public init(file: String, line: Int?, text: String = "", message: String) {
        self.file = file
        self.line = line
        self.text = String(text.prefix(Self.maxTextLength))
        self.message = message
    }

    public var description: String {
        guard let line else {
            return "\(file): \(message)"
        }
        return "\(file):\(line): \(message): \"\(text)\""
    }
}
