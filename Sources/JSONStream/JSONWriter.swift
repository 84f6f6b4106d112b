/// Writes one JSON document front to back, laid out as JSONSerialization's
/// pretty printing does (two-space indent, `"key" : value`, so monitorctl's
/// documents all look alike), into a byte buffer: for documents too large for a tree of `Any` (monitorctl's fleet of
/// 10,000 nodes). The caller writes keys in the order it wants them (sorted, for
/// stable output). Owns the buffer; lives as long as one document.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.object { w in
///     w.key("node"); w.string("alpha")
///     w.key("up"); w.bool(true)
/// }
/// print(writer.text)
/// ```
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var depth = 0
    /// Whether the current container already has an element (a comma is due).
    private var hasElement = false
    /// A key was just written: its value follows on the same line.
    private var afterKey = false

    /// - Parameter capacity: the expected size in bytes, reserved up front so a
    ///   large document is not copied while it grows.
    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The document and a final newline, moved out of the writer (which is left
    /// empty): a large document is not copied.
    public mutating func takeLine() -> [UInt8] {
        var out: [UInt8] = []
        swap(&out, &bytes)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), body)
    }

    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        container(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), body)
    }

    /// A member name inside an object; the next value written is its value.
    public mutating func key(_ name: String) {
        element()
        quoted(name)
        bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
        afterKey = true
    }

    public mutating func string(_ value: String) {
        element()
        quoted(value)
    }

    /// Whole numbers as integers (`10`, not `10.0`), others in Swift's shortest
    /// form that reads back exactly; NaN and infinities, which JSON cannot hold, as null.
    public mutating func number(_ value: Double) {
        guard value.isFinite else { return null() }
        element()
        if let whole = Int64(exactly: value) {
            bytes.append(contentsOf: String(whole).utf8)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func integer<T: BinaryInteger>(_ value: T) {
        element()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        element()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// The value, or null when there is none.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// The value, or null when there is none.
    public mutating func number(_ value: Double?) {
        if let value { number(value) } else { null() }
    }

    /// The value, or null when there is none.
    public mutating func integer<T: BinaryInteger>(_ value: T?) {
        if let value { integer(value) } else { null() }
    }

    public mutating func null() {
        element()
        bytes.append(contentsOf: "null".utf8)
    }

    // MARK: Layout

    private mutating func container(open: UInt8, close: UInt8, _ body: (inout JSONWriter) -> Void) {
        element()
        bytes.append(open)
        depth += 1
        hasElement = false
        body(&self)
        depth -= 1
        if hasElement { newline() }
        bytes.append(close)
        hasElement = true
    }

    /// Before a value or a key: the comma and line break it needs.
    private mutating func element() {
        if afterKey {
            afterKey = false
            return
        }
        if depth > 0 {
            if hasElement { bytes.append(UInt8(ascii: ",")) }
            newline()
        }
        hasElement = true
    }

    private mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }

    /// A string literal: quotes, backslashes and every control character escaped
    /// (C0 and DEL as \u escapes, so a terminal never sees them raw).
    private mutating func quoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7f:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
