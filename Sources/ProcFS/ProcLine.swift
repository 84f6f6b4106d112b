#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of a /proc file being parsed: its 1-based number, its bytes, and a
/// cursor over its whitespace-separated fields. Only valid inside
/// `ProcText.withLines`.
///
/// Works on a raw pointer rather than through Collection algorithms: pointer
/// subscripts are inlined even in debug builds, generic algorithms are not, and
/// the difference is most of a round's cost there.
struct ProcLine {
    let number: Int
    private let start: UnsafePointer<UInt8>
    private let count: Int
    private var position = 0

    init(number: Int, start: UnsafePointer<UInt8>, count: Int) {
        self.number = number
        self.start = start
        self.count = count
    }

    /// The whole line, for error reports.
    var text: String {
        String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    /// Nothing but spaces and tabs, e.g. the empty string after a final newline.
    var isBlank: Bool {
        var index = 0
        while index < count, Self.isSpace(start[index]) {
            index += 1
        }
        return index == count
    }

    func contains(_ byte: UInt8) -> Bool {
        memchr(start, Int32(byte), count) != nil
    }

    /// The next field, skipping runs of spaces and tabs (the kernel pads columns
    /// with spaces); nil at the end of the line.
    mutating func nextField() -> ProcField? {
        while position < count, Self.isSpace(start[position]) {
            position += 1
        }
        guard position < count else {
            return nil
        }
        let fieldStart = position
        while position < count, !Self.isSpace(start[position]) {
            position += 1
        }
        return ProcField(start: start + fieldStart, count: position - fieldStart)
    }

    /// How many fields are left, without consuming them.
    var remainingFieldCount: Int {
        var copy = self
        var fields = 0
        while copy.nextField() != nil {
            fields += 1
        }
        return fields
    }

    /// Splits the rest of the line at the first (or last) `separator`: returns the
    /// part before it as a line of its own and moves past the separator. Nil, and
    /// nothing consumed, when there is no separator.
    mutating func split(at separator: UInt8, last: Bool = false) -> ProcLine? {
        var index = last ? count - 1 : position
        while index >= position, index < count, start[index] != separator {
            index += last ? -1 : 1
        }
        guard index >= position, index < count else {
            return nil
        }
        let before = ProcLine(number: number, start: start + position, count: index - position)
        position = index + 1
        return before
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}
