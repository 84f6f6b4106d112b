/// Standard base64 (RFC 4648, with padding), as etcd's JSON gateway writes keys
/// and values. Stateless.
public enum Base64 {
    /// The bytes, or nil when `text` is not padded standard base64 (its length a
    /// multiple of 4, only the alphabet, '=' only at the end).
    public static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var quad: UInt32 = 0, filled = 0, padding = 0
        for byte in text {
            let sextet: UInt8
            if byte == UInt8(ascii: "=") {
                padding += 1
                sextet = 0
            } else {
                guard padding == 0, let value = value(of: byte) else { return nil }
                sextet = value
            }
            quad = quad << 6 | UInt32(sextet)
            filled += 1
            if filled == 4 {
                guard padding <= 2 else { return nil }
                out.append(UInt8(truncatingIfNeeded: quad >> 16))
                if padding < 2 { out.append(UInt8(truncatingIfNeeded: quad >> 8)) }
                if padding < 1 { out.append(UInt8(truncatingIfNeeded: quad)) }
                quad = 0
                filled = 0
                if padding > 0 { break }
            }
        }
        // Padding anywhere but in the last quad leaves bytes unread.
        return out.count == text.count / 4 * 3 - padding ? out : nil
    }

    /// Encodes `bytes` with padding.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next(), c = iterator.next()
            let triple = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(b == nil ? UInt8(ascii: "=") : alphabet[Int(triple >> 6 & 63)])
            out.append(c == nil ? UInt8(ascii: "=") : alphabet[Int(triple & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
