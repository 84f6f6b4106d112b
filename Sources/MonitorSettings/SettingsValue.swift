/// How one kind of setting value is checked and turned into its typed form, with the
/// "expected ..." phrase that errors print. `parse` gets the trimmed, non-empty text
/// (or a key's default) and returns nil when the value is not valid.
struct SettingsValue<Value>: Sendable {
    let expected: String
    let parse: @Sendable (String) -> Value?
}

extension SettingsValue where Value == Int {
    /// Plain decimal digits (no sign, no fraction) within `range`.
    /// `noun` names the value in errors, e.g. "a whole number of seconds".
    static func wholeNumber(_ range: ClosedRange<Int>, _ noun: String, note: String = "")
        -> SettingsValue<Int> {
        SettingsValue(
            expected: "\(noun) from \(range.lowerBound) to \(range.upperBound)\(note)",
            parse: { text in
                guard isDigits(text), let number = Int(text), range.contains(number) else { return nil }
                return number
            })
    }
}

extension SettingsValue where Value == Double {
    /// Decimal digits with an optional fraction ("0.5", ".5", "60"); no sign, exponent,
    /// "inf" or "nan", which `Double(_:)` alone would accept.
    static func number(_ range: ClosedRange<Double>, _ noun: String) -> SettingsValue<Double> {
        SettingsValue(
            expected: "\(noun) from \(format(range.lowerBound)) to \(format(range.upperBound))",
            parse: { text in DecimalNumber.parse(text).flatMap { range.contains($0) ? $0 : nil } })
    }

    private static func format(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }
}

extension SettingsValue where Value == String {
    /// One of `names`, case-insensitively; stored lower-case.
    static func oneOf(_ names: [String]) -> SettingsValue<String> {
        SettingsValue(
            expected: "one of: \(names.joined(separator: ", "))",
            parse: { text in
                let lowered = text.lowercased()
                return names.contains(lowered) ? lowered : nil
            })
    }

    /// A file path (absolute, or relative to the credentials directory, see
    /// `EtcdCredentials`); empty (the default) means unset.
    static var filePath: SettingsValue<String> {
        SettingsValue(
            expected: "a file path of at most 4096 bytes without control characters",
            parse: { text in
                text.isEmpty || (text.utf8.count <= 4096
                    && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }) ? text : nil
            })
    }

    /// An etcd user name: printable, no whitespace; empty (the default) means none.
    static var etcdUser: SettingsValue<String> {
        SettingsValue(
            expected: "an etcd user name of at most 128 characters without whitespace or control characters",
            parse: { text in
                text.isEmpty || (text.count <= 128 && !text.unicodeScalars.contains {
                    $0.properties.isWhitespace || $0.properties.generalCategory == .control
                }) ? text : nil
            })
    }

    /// An absolute etcd key prefix such as "/monitor"; trailing slashes are dropped so
    /// that "/monitor/" and "/monitor" name the same keys.
    static var keyPrefix: SettingsValue<String> {
        SettingsValue(
            expected: "a key prefix starting with \"/\", without whitespace, other than \"/\" alone",
            parse: { text in
                guard text.hasPrefix("/"),
                      !text.unicodeScalars.contains(where: { $0.properties.isWhitespace
                          || $0.properties.generalCategory == .control }) else { return nil }
                var prefix = Substring(text)
                while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
                return prefix.isEmpty ? nil : String(prefix)
            })
    }

    /// Empty (use the host name) or 1 to 64 characters of A-Z a-z 0-9 . _ -, so that
    /// the name is safe as one etcd key component.
    static var nodeName: SettingsValue<String> {
        SettingsValue(
            expected: NodeName.expected + ", not \"default\" (the fleet-wide config key), or nothing for the host name",
            parse: { text in text.isEmpty || (NodeName.isValid(text) && !NodeName.reserved.contains(text)) ? text : nil })
    }
}

extension SettingsValue where Value == [String] {
    /// Comma-separated etcd client URLs, at least one.
    static var endpointList: SettingsValue<[String]> {
        SettingsValue(
            expected: "a comma-separated list of http:// or https:// URLs with a host, "
                + "an optional port (2379, etcd's client port, when none) and no path",
            parse: { text in
                var endpoints: [String] = []
                for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let endpoint = endpoint(SettingsParser.trim(item)) else { return nil }
                    endpoints.append(endpoint)
                }
                return endpoints
            })
    }

    /// The client port etcd listens on unless told otherwise: what an endpoint
    /// without a port means (never http's 80).
    static let defaultEtcdPort = 2379

    /// "scheme://host[:port][/]" with scheme lower-cased, the slash dropped and
    /// `:2379` added when there is no port, or nil.
    /// The host is a name, an IPv4 address or a bracketed IPv6 address; user info,
    /// paths, queries and fragments are refused because the client appends /v3/... itself.
    private static func endpoint(_ text: Substring) -> String? {
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = text[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard rest[authority.endIndex...] == "" || rest[authority.endIndex...] == "/" else { return nil }

        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = authority[authority.index(after: authority.startIndex)..<close]
            guard host.contains(":"), host.unicodeScalars.allSatisfy({
                $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "."
            }) else { return nil }
            let afterHost = authority[authority.index(after: close)...]
            if afterHost.isEmpty {
                port = nil
            } else {
                guard afterHost.hasPrefix(":") else { return nil }
                port = afterHost.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let host = parts[0]
            guard !host.isEmpty, host.unicodeScalars.allSatisfy({
                isAlphanumeric($0) || "-._".unicodeScalars.contains($0)
            }) else { return nil }
            port = parts.count == 2 ? parts[1] : nil
        }
        if let port {
            guard isDigits(port), port.count <= 5, let number = Int(port), (1...65535).contains(number)
            else { return nil }
        }
        return "\(scheme)://\(authority)" + (port == nil ? ":\(defaultEtcdPort)" : "")
    }
}

/// The one rule for numbers people type (settings, `monitorctl config set`):
/// decimal digits with an optional fraction ("0.5", ".5", "60"). No sign, exponent,
/// hexadecimal ("0x10", which `Double(_:)` reads as 16), "inf" or "nan".
public enum DecimalNumber {
    public static func parse<S: StringProtocol>(_ text: S) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ $0.isEmpty || isDigits($0) }), parts.contains(where: { !$0.isEmpty }) else { return nil }
        return Double(String(text))
    }
}

/// The one node-name rule, for [Agent] NodeName and every NODE argument of
/// monitorctl: the name becomes one component of etcd keys, so it may never
/// contain a slash, whitespace or anything a terminal would interpret.
public enum NodeName {
    public static let maxLength = 64
    /// What errors say a name must be.
    public static let expected = "1 to \(maxLength) characters of A-Z a-z 0-9 . _ -"

    public static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || "._-".unicodeScalars.contains(scalar)
    }

    /// Names with a meaning of their own under the prefix: `<prefix>/config/default`
    /// is the fleet-wide config, so no node may be called that.
    public static let reserved: Set<String> = ["default"]

    public static func isValid(_ name: String) -> Bool {
        (1...maxLength).contains(name.unicodeScalars.count) && name.unicodeScalars.allSatisfy(isAllowed)
    }
}

/// ASCII letters and digits only.
private func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
}

/// Non-empty and ASCII digits only.
private func isDigits<S: StringProtocol>(_ text: S) -> Bool {
    !text.isEmpty && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
}
