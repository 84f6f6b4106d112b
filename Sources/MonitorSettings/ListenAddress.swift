/// Where monitor-serverd's HTTP listener binds (`[Server] Listen`): an IP
/// literal and a port. Port 0 asks the kernel for a free one (the tests use it;
/// the server logs the port it got).
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal, without brackets.
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// "127.0.0.1:9732" or "[::1]:9732".
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// What `Listen=` accepts, for errors.
    static let expected = "an IP address and port (127.0.0.1:9732, 0.0.0.0:9732, [::1]:9732), or off"

    /// "HOST:PORT" with an IPv4 literal, or "[HOST]:PORT" with an IPv6 one; nil
    /// otherwise. Host names are refused: the listener binds one address, and a
    /// name could resolve to another one after a DNS change.
    static func parse(_ text: String) -> ListenAddress? {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII)
                && UInt8($0) != nil }) else { return nil }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = UInt16(portText) else { return nil }
        return ListenAddress(host: String(host), port: port)
    }
}

extension SettingsValue where Value == ListenAddress? {
    /// A listen address, or "off" (stored as nil).
    static var listenAddress: SettingsValue<ListenAddress?> {
        SettingsValue(expected: ListenAddress.expected, parse: { text in
            if text.lowercased() == "off" { return .some(nil) }
            return ListenAddress.parse(text).map { .some($0) }
        })
    }
}
