import Glibc

/// A forward-only reader of one JSON document (RFC 8259) held in bytes: the
/// caller walks the document in order and takes what it needs, so reading a value
/// builds no tree, no dictionary and no `Decoder` containers. Everything it steps
/// over is still checked, so a document with bad syntax anywhere (a stray "\u0",
/// a raw control character or bad UTF-8 in a string, `1e400`, `01`, trailing
/// bytes, nesting deeper than `maxDepth`) is refused as a whole, as
/// JSONSerialization and JSONDecoder refuse it.
///
/// Owns a copy of the bytes and a position; lives as long as one decode.
///
/// ```swift
/// var reader = JSONReader(bytes)
/// try reader.object { reader, key in
///     switch key {
///     case "ts": ts = try reader.number()       // nil when not a number
///     default: try reader.skip()
///     }
/// }
/// try reader.end()
/// ```
public struct JSONReader {
    /// What the next value is, from its first byte.
    public enum Kind: Equatable, Sendable {
        case object, array, string, number, bool, null
    }

    /// JSONDecoder's nesting limit: deeper documents are refused, not read.
    public static let maxDepth = 512

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xef, 0xbb, 0xbf]) { index = 3 }
    }

    // MARK: Structure

    /// The kind of the next value; throws at the end of the input or on a byte
    /// that cannot start a value.
    public mutating func kind() throws(JSONSyntaxError) -> Kind {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: throw error("unexpected character")
        }
    }

    /// Reads an object: `member` is called with each key in document order and
    /// must read (or `skip()`) exactly that member's value. Throws when the next
    /// value is not an object.
    public mutating func object(_ member: (inout JSONReader, String) throws -> Void) throws {
        try container(.object) { reader in
            reader.skipWhitespace()
            guard try reader.peek() == UInt8(ascii: "\"") else { throw reader.error("expected a member name") }
            let key = try reader.readString()
            reader.skipWhitespace()
            try reader.expect(UInt8(ascii: ":"))
            try member(&reader, key)
        }
    }

    /// Reads an array: `element` is called for each element and must read (or
    /// `skip()`) it. Throws when the next value is not an array.
    public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        try container(.array, element)
    }

    /// The brackets, commas (one trailing comma allowed) and nesting depth of an
    /// object or array; `element` reads what stands between the commas.
    private mutating func container(_ kind: Kind, _ element: (inout JSONReader) throws -> Void) throws {
        let isObject = kind == .object
        guard try self.kind() == kind else { throw error(isObject ? "expected an object" : "expected an array") }
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        try enter()
        index += 1
        skipWhitespace()
        if try peek() == close {
            index += 1
            depth -= 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == close { break }
            guard next == UInt8(ascii: ",") else { throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'") }
            if try closesAfterComma(close) { break }
        }
        depth -= 1
    }

    /// Steps over the next value, checking it. Iterative, so a deep document
    /// cannot exhaust a small thread stack.
    public mutating func skip() throws(JSONSyntaxError) {
        // One bit per open container (1 = object), enough for maxDepth levels.
        var open: [UInt64] = []
        let base = depth
        defer { depth = base }
        // After an opening bracket or a comma a value (or a member) is due.
        while true {
            let kind = try kind()
            switch kind {
            case .object, .array:
                try enter()
                let level = depth - base - 1
                if level / 64 >= open.count { open.append(0) }
                if kind == .object { open[level / 64] |= 1 << UInt64(level % 64) } else { open[level / 64] &= ~(1 << UInt64(level % 64)) }
                index += 1
                skipWhitespace()
                let close = kind == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if try peek() == close {
                    index += 1
                    depth -= 1
                } else {
                    if kind == .object { try memberName() }
                    continue
                }
            case .string: _ = try readString()
            case .number: _ = try readNumber()
            case .bool: _ = try readBool()
            case .null: try readNull()
            }
            // A value ended: close containers until one continues with a comma.
            while depth > base {
                let level = depth - base - 1
                let isObject = open[level / 64] & (1 << UInt64(level % 64)) != 0
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                skipWhitespace()
                let next = try peek()
                index += 1
                if next == UInt8(ascii: ",") {
                    if try closesAfterComma(close) {
                        depth -= 1
                        continue
                    }
                    if isObject { try memberName() }
                    break
                }
                guard next == close else {
                    throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                }
                depth -= 1
            }
            if depth == base { return }
        }
    }

    /// Checks that nothing but whitespace follows the document.
    public mutating func end() throws(JSONSyntaxError) {
        skipWhitespace()
        guard index == bytes.count else { throw error("unexpected data after the document") }
    }

    // MARK: Scalars, strict (throw when the next value is of another kind)

    public mutating func readString() throws(JSONSyntaxError) -> String {
        let (start, end, escaped) = try stringBounds()
        if !escaped {
            guard let text = bytes.withUnsafeBufferPointer({ String(validating: $0[start..<end], as: UTF8.self) }) else {
                throw error("invalid UTF-8 in a string")
            }
            return text
        }
        let unescaped = try unescape(start, end)
        guard let text = String(validating: unescaped, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return text
    }

    /// A finite number; `1e400` is a syntax error, as JSONSerialization has it.
    public mutating func readNumber() throws(JSONSyntaxError) -> Double {
        skipWhitespace()
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let value = Self.parseDouble(bytes, start, index)
        guard value.isFinite else { throw error("number out of range") }
        return value
    }

    public mutating func readBool() throws(JSONSyntaxError) -> Bool {
        if try literal("true") { return true }
        if try literal("false") { return false }
        throw error("expected true or false")
    }

    public mutating func readNull() throws(JSONSyntaxError) {
        guard try literal("null") else { throw error("expected null") }
    }

    // MARK: Scalars, lenient (another kind is checked, skipped and read as nil)

    /// The next value if it is a string, else nil (the value is skipped).
    public mutating func string() throws(JSONSyntaxError) -> String? {
        try kind() == .string ? try readString() : skipped()
    }

    /// The next value if it is a number, else nil (the value is skipped).
    public mutating func number() throws(JSONSyntaxError) -> Double? {
        try kind() == .number ? try readNumber() : skipped()
    }

    /// The next value if it is `true` or `false`, else nil (the value is skipped).
    public mutating func bool() throws(JSONSyntaxError) -> Bool? {
        try kind() == .bool ? try readBool() : skipped()
    }

    /// The digits of an integer exactly as written, for 64-bit IDs that a Double
    /// would round: a number's text, or a string's content (etcd's gateway writes
    /// int64 as strings). Nil for other kinds (skipped).
    public mutating func integerText() throws(JSONSyntaxError) -> String? {
        switch try kind() {
        case .string: return try readString()
        case .number:
            skipWhitespace()
            let start = index
            _ = try readNumber()
            return String(decoding: bytes[start..<index], as: UTF8.self)
        default: return try skipped()
        }
    }

    /// A string of standard base64 (with padding), decoded; nil when the next value
    /// is not a string or not base64. Decodes straight from the input.
    public mutating func base64() throws(JSONSyntaxError) -> [UInt8]? {
        guard try kind() == .string else { return try skipped() }
        let (start, end, escaped) = try stringBounds()
        if escaped { return Base64.decode(try unescape(start, end)) }
        return bytes.withUnsafeBufferPointer { Base64.decode($0[start..<end]) }
    }

    /// `read(&self)` when the next value is an object, else nil (the value is skipped).
    public mutating func ifObject<T>(_ read: (inout JSONReader) throws -> T) throws -> T? {
        guard try kind() == .object else { return try skipped() }
        return try read(&self)
    }

    /// The elements read by `read` when the next value is an array of objects only;
    /// nil (the value checked and skipped) when it is not an array or when any
    /// element is not an object, as a cast to `[[String: Any]]` would have it.
    public mutating func objects<T>(_ read: (inout JSONReader) throws -> T) throws -> [T]? {
        guard try kind() == .array else { return try skipped() }
        var elements: [T] = []
        var onlyObjects = true
        try array { reader in
            if onlyObjects, try reader.kind() == .object {
                elements.append(try read(&reader))
            } else {
                onlyObjects = false
                try reader.skip()
            }
        }
        return onlyObjects ? elements : nil
    }

    private mutating func skipped<T>() throws(JSONSyntaxError) -> T? {
        try skip()
        return nil
    }

    // MARK: Bytes

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0a, 0x0d, 0x09: index += 1
            default: return
            }
        }
    }

    private func peek() throws(JSONSyntaxError) -> UInt8 {
        guard index < bytes.count else { throw error("unexpected end") }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws(JSONSyntaxError) {
        guard try peek() == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    /// After a comma: consumes `close` if it follows (a trailing comma).
    private mutating func closesAfterComma(_ close: UInt8) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard try peek() == close else { return false }
        index += 1
        return true
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth)") }
    }

    /// After '{' or ',' in an object: a member name and its colon.
    private mutating func memberName() throws(JSONSyntaxError) {
        skipWhitespace()
        guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
        _ = try readString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { w in (0..<count).allSatisfy { bytes[index + $0] == w[$0] } }
        if matches { index += count }
        return matches
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Steps over a string; its content's bounds and whether it has escapes. The
    /// content's escapes are checked later, by `unescape`.
    private mutating func stringBounds() throws(JSONSyntaxError) -> (Int, Int, Bool) {
        skipWhitespace()
        try expect(UInt8(ascii: "\""))
        let start = index
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                if escaped { _ = try unescape(start, index - 1) }
                return (start, index - 1, escaped)
            }
            if byte < 0x20 { throw error("control character in a string") }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                index += 1 // the escaped byte cannot end the string
            }
            index += 1
        }
        throw error("unterminated string")
    }

    /// A string's content with its escapes resolved, as UTF-8 bytes.
    private func unescape(_ start: Int, _ end: Int) throws(JSONSyntaxError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        func hex4(_ at: Int) throws(JSONSyntaxError) -> UInt32 {
            guard at + 4 <= end else { throw error("invalid \\u escape") }
            var value: UInt32 = 0
            for byte in bytes[at..<at + 4] {
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
        while i < end {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            guard i + 1 < end else { throw error("invalid escape") }
            let escape = bytes[i + 1]
            i += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate")
                    }
                    let low = try hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate") }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: UTF8.encode(unicode)!)
            default: throw error("invalid escape")
            }
        }
        return out
    }

    /// strtod over the number's text (already checked against JSON's grammar).
    private static func parseDouble(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Double {
        let count = end - start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { text in
            for i in 0..<count { text[i] = CChar(bitPattern: bytes[start + i]) }
            text[count] = 0
            return strtod(text.baseAddress!, nil)
        }
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, offset: index)
    }
}

/// Why a document is not JSON, and the byte offset where that became clear.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public let offset: Int

    public var description: String { "\(reason) at byte \(offset)" }
}
