/// The per-interface traffic counters of /proc/net/dev.
///
/// After two header lines (recognised by their `|`), each line is `name: ` then 8
/// receive counters (bytes packets errs drop fifo frame compressed multicast) and 8
/// transmit counters (bytes packets errs drop fifo colls carrier compressed). The
/// layout has been the same since 2.2; kernels before 2.6 printed no space after the
/// colon once the byte count grew wide ("eth0:1234567"), so the name is split off at
/// the colon, not at whitespace.
public struct NetDev: Equatable, Sendable {
    /// One interface's line.
    public struct Interface: Equatable, Sendable {
        public var name: String
        public var receiveBytes: UInt64
        public var receivePackets: UInt64
        public var transmitBytes: UInt64
        public var transmitPackets: UInt64

        public init(
            name: String, receiveBytes: UInt64, receivePackets: UInt64 = 0,
            transmitBytes: UInt64, transmitPackets: UInt64 = 0
        ) {
            self.name = name
            self.receiveBytes = receiveBytes
            self.receivePackets = receivePackets
            self.transmitBytes = transmitBytes
            self.transmitPackets = transmitPackets
        }

        /// Whether this interface counts towards "net in"/"net out": all but the
        /// loopback, whose traffic never leaves the machine. Bridges, bonds and veths
        /// do count, as configured ("every interface except lo").
        public var isCounted: Bool { name != "lo" }
    }

    public var interfaces: [Interface]

    public init(interfaces: [Interface]) {
        self.interfaces = interfaces
    }

    /// Parses the text of /proc/net/dev. Throws `ProcParseError`.
    public static func parse(_ text: String, file: String = "/proc/net/dev") throws -> NetDev {
        var interfaces: [Interface] = []
        // Reused for every line: one allocation per parse, not per line.
        var values = [UInt64](repeating: 0, count: 16)
        try ProcText.withLines(text) { lines in
            while var line = lines.next() {
                if line.isBlank || line.contains(UInt8(ascii: "|")) {
                    continue  // header
                }
                interfaces.append(try parseLine(&line, values: &values, file: file))
            }
        }
        return NetDev(interfaces: interfaces)
    }

    private static func parseLine(_ line: inout ProcLine, values: inout [UInt64], file: String) throws -> Interface {
        let whole = line  // for error reports; its text is only built on failure
        func failure(_ message: String) -> ProcParseError {
            ProcParseError(file: file, line: whole.number, text: whole.text, message: message)
        }
        // The last colon: counters never contain one, names in principle may.
        guard var namePart = line.split(at: UInt8(ascii: ":"), last: true) else {
            throw failure("expected \"name: counters\"")
        }
        guard let name = namePart.nextField(), namePart.nextField() == nil else {
            throw failure("expected one interface name before the colon")
        }
        let count = line.remainingFieldCount
        guard count >= 16 else {
            throw failure("expected 16 counters, found \(count)")
        }
        // All 16 are checked, not only the four kept: a line damaged anywhere is
        // reported rather than half-trusted.
        for index in 0..<16 {
            let field = line.nextField()!
            guard let value = field.uint64 else {
                throw failure("counter \(index + 1) is not a number: \"\(field.string)\"")
            }
            values[index] = value
        }
        return Interface(
            name: name.string,
            receiveBytes: values[0], receivePackets: values[1],
            transmitBytes: values[8], transmitPackets: values[9])
    }
}
