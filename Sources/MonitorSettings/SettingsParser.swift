import SafeText

/// The systemd-style INI syntax of monitor.conf, applied to `Settings` through the key
/// table. Pure: text in, settings or the first error out.
///
/// Accepted: `[Section]` headers; `Key=Value` with whitespace around key and value
/// trimmed; blank lines and lines starting with `#` or `;`. Like systemd there are no
/// trailing comments (a `#` after a value is part of it), names are case-sensitive, a
/// later assignment wins and an empty value resets the key to its default. Unlike
/// systemd, unknown sections and keys are errors: a typo must not silently leave a
/// daemon on its defaults.
enum SettingsParser {
    static func parse(_ text: String, file: String, base: Settings) throws -> Settings {
        var settings = base
        var section: SettingsSection?
        // A byte-order mark some editors write; systemd skips it too.
        let text = text.hasPrefix("\u{FEFF}") ? Substring(text.dropFirst()) : Substring(text)
        // "\r\n" is one Character in Swift, so CRLF files count lines like LF files.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }

        for (index, rawLine) in lines.enumerated() {
            func failure(_ message: String) -> SettingsError {
                SettingsError(file: file, line: index + 1, message: message)
            }
            let line = trim(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") {
                continue
            }
            if line.hasPrefix("[") {
                guard line.count >= 2, line.hasSuffix("]") else {
                    throw failure("unterminated section header \(quoted(line)); expected [Name]")
                }
                let name = String(line.dropFirst().dropLast())
                guard let named = SettingsSection(rawValue: name) else {
                    let names = SettingsSection.allCases.map(\.rawValue).joined(separator: ", ")
                    throw failure("unknown section \(quoted(name)); expected one of: \(names)")
                }
                section = named
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw failure("\(quoted(line)): expected Key=Value, a [Section] header or a comment")
            }
            let key = String(trim(line[..<equals]))
            let value = String(trim(line[line.index(after: equals)...]))
            guard !key.isEmpty else {
                throw failure("\(quoted(line)): expected a key name before \"=\"")
            }
            guard let section else {
                throw failure("key \(quoted(key)) before any section header; "
                    + "expected a section header such as [\(SettingsSection.etcd.rawValue)] first")
            }
            let candidates = SettingsKey.keys(in: section)
            guard let entry = candidates.first(where: { $0.name == key }) else {
                let names = candidates.map(\.name).joined(separator: ", ")
                throw failure("unknown key \(quoted(key)) in [\(section.rawValue)]; expected one of: \(names)")
            }
            guard entry.apply(value, to: &settings) else {
                throw failure("\(key)=\(quoted(value)): expected \(entry.expected)")
            }
        }
        return settings
    }

    /// `text` without leading and trailing whitespace (spaces, tabs, a stray "\r").
    static func trim<S: StringProtocol>(_ text: S) -> Substring {
        let whole = Substring(text)
        guard let first = whole.firstIndex(where: { !$0.isWhitespace }),
              let last = whole.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return whole[first...last]
    }

    /// The most of an offending text an error quotes: a 1 MB line must not
    /// become a 1 MB message.
    static let quoteLimit = 80

    /// In double quotes, with quotes and backslashes escaped, control characters
    /// made visible (`SafeText`) and at most `quoteLimit` characters, so an error
    /// stays one short readable line whatever the file contains.
    static func quoted<S: StringProtocol>(_ text: S) -> String {
        var inner = ""
        for character in text {
            switch character {
            case "\"": inner += #"\""#
            case "\\": inner += #"\\"#
            default: inner.append(character)
            }
        }
        return "\"" + SafeText.escaped(inner, limit: quoteLimit) + "\""
    }
}
