/// Entry point of the byte-level /proc scanning shared by the parsers.
///
/// Parsers work on the UTF-8 bytes of the text through `ProcLines`, `ProcLine` and
/// `ProcField`: no regex, no Scanner, no `Character` (grapheme) processing, no
/// intermediate arrays of substrings, and memchr for line ends. /proc is ASCII, and
/// this keeps a round cheap even in debug builds, where generic collection
/// algorithms are not specialised and cost ten times more.
enum ProcText {
    /// Runs `body` with the lines of `text`. The lines, and the fields taken from
    /// them, point into `text`'s storage and must not escape `body`.
    static func withLines<R>(_ text: String, _ body: (inout ProcLines) throws -> R) rethrows -> R {
        var text = text
        return try text.withUTF8 { bytes in
            var lines = ProcLines(bytes)
            return try body(&lines)
        }
    }
}
