/// The one rule for putting text that came from outside (etcd values and keys,
/// node and host names, config errors) in front of a person: a terminal never
/// receives a control character from it, so a name cannot forge a table row or a
/// log record, clear the screen, retitle the window or reorder what is shown.
/// Machine formats (JSON, journald fields) carry the text whole instead.
/// Stateless.
public enum SafeText {
    /// `text` with every C0 control, DEL, C1 control and Unicode bidirectional
    /// override made visible: `\n`, `\r`, `\t`, else `\x1b` or `\u{202e}`.
    /// Text without them is returned as is. `reversible`: backslashes are doubled
    /// too, so that `unescaped` gives the exact text back (for a key an operator
    /// copies from the screen into a command).
    public static func escaped(_ text: String, reversible: Bool = false) -> String {
        // Printable ASCII, the common case (every log line), is checked bytewise.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && !(reversible && $0 == UInt8(ascii: "\\")) }) { return text }
        func special(_ scalar: Unicode.Scalar) -> Bool { needsEscape(scalar) || (reversible && scalar == "\\") }
        guard text.unicodeScalars.contains(where: special) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" && reversible {
                out.append(contentsOf: #"\\"#.unicodeScalars)
                continue
            }
            guard needsEscape(scalar) else {
                out.append(scalar)
                continue
            }
            let visible: String
            switch scalar {
            case "\n": visible = #"\n"#
            case "\r": visible = #"\r"#
            case "\t": visible = #"\t"#
            default:
                let hex = String(scalar.value, radix: 16)
                visible = scalar.value < 0x100 ? #"\x"# + (hex.count < 2 ? "0" + hex : hex) : #"\u{"# + hex + "}"
            }
            out.append(contentsOf: visible.unicodeScalars)
        }
        return String(out)
    }

    /// `escaped(text)` cut to at most `limit` characters, the last one an
    /// ellipsis when something was cut: a 1 MB value must not become a 1 MB line.
    public static func escaped(_ text: String, limit: Int) -> String {
        cut(escaped(text), limit: limit)
    }

    /// `text` cut to at most `limit` characters, the last one an ellipsis when
    /// something was cut (nothing escaped).
    public static func cut(_ text: String, limit: Int) -> String {
        guard limit > 0, text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }

    /// The text `escaped(_, reversible: true)` was made from; nil when `text` has
    /// a backslash that starts no escape of that form.
    public static func unescaped(_ text: String) -> String? {
        guard text.contains("\\") else { return text }
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        func hexValue(_ digits: String) -> Unicode.Scalar? { UInt32(digits, radix: 16).flatMap(Unicode.Scalar.init) }
        while let scalar = scalars.next() {
            guard scalar == "\\" else {
                out.append(scalar)
                continue
            }
            switch scalars.next() {
            case "\\": out.append("\\")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "x":
                guard let a = scalars.next(), let b = scalars.next(),
                      let value = hexValue(String(a) + String(b)) else { return nil }
                out.append(value)
            case "u":
                guard scalars.next() == "{" else { return nil }
                var digits = "", closed = false
                while let next = scalars.next() {
                    if next == "}" { closed = true; break }
                    digits.unicodeScalars.append(next)
                }
                guard closed, (1...6).contains(digits.count), let value = hexValue(digits) else { return nil }
                out.append(value)
            default: return nil
            }
        }
        return String(out)
    }

    /// Whether a terminal would act on `scalar` instead of showing it.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        // Bidirectional embeddings, overrides and isolates ("trojan source").
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }
}
