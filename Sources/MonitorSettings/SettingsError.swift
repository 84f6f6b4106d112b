/// Why settings could not be loaded: which file, which line (when the problem is on
/// one line) and what was wrong and expected.
///
/// `description` is the single line the daemons print before exiting with 78
/// (EX_CONFIG), e.g.
/// `/etc/monitor/monitor.conf:7: unknown key "LeaseTTL" in [Agent]; expected one of: NodeName, LeaseTTLSec`.
public struct SettingsError: Error, Equatable, CustomStringConvertible {
    /// The file as it was named to `load` or `parse`.
    public let file: String
    /// 1-based line number; nil when the problem is the whole file (missing, unreadable).
    public let line: Int?
    /// What was wrong and what was expected, without the `file:line: ` prefix.
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line {
            return "\(file):\(line): \(message)"
        }
        return "\(file): \(message)"
    }
}
