@testable import ProcFS
import ProcFSTestKit
import XCTest

final class NetDevTests: XCTestCase {
    func testRealKernel618() throws {
        let dev = try NetDev.parse(Fixtures.text("proc-6.18-vm/net/dev"))
        XCTAssertEqual(dev.interfaces.map(\.name), ["lo", "ifb0", "ifb1", "eth0"])
        XCTAssertEqual(dev.interfaces[3], NetDev.Interface(
            name: "eth0", receiveBytes: 30566634, receivePackets: 727,
            transmitBytes: 31383, transmitPackets: 394))
        XCTAssertEqual(dev.interfaces.filter(\.isCounted).map(\.name), ["ifb0", "ifb1", "eth0"])
    }

    func testKernel4_4LoEthWlan() throws {
        let dev = try NetDev.parse(Fixtures.text("proc-4.4/net/dev"))
        XCTAssertEqual(dev.interfaces.map(\.name), ["lo", "eth0", "wlan0"])
        XCTAssertEqual(dev.interfaces[1].receiveBytes, 1183722010)
        XCTAssertEqual(dev.interfaces[1].transmitBytes, 76305011)
        XCTAssertEqual(dev.interfaces[2].receiveBytes, 213442168)
        XCTAssertEqual(dev.interfaces[2].transmitBytes, 21432580)
        XCTAssertEqual(dev.interfaces.filter(\.isCounted).map(\.name), ["eth0", "wlan0"])
    }

    func testKernel2_6_18CounterAgainstColon() throws {
        // "eth0:2138516549": no space once the counter is wide.
        let dev = try NetDev.parse(Fixtures.text("proc-2.6.18/net/dev"))
        XCTAssertEqual(dev.interfaces.map(\.name), ["lo", "eth0", "sit0"])
        XCTAssertEqual(dev.interfaces[1].receiveBytes, 2138516549)
        XCTAssertEqual(dev.interfaces[1].receivePackets, 8429113)
        XCTAssertEqual(dev.interfaces[1].transmitBytes, 1446513451)
    }

    func testMalformedFiles() {
        let parse = { (text: String, file: String) in try NetDev.parse(text, file: file) }
        assertParseError("malformed/netdev-no-colon", line: 3, contains: "name: counters", parse: parse)
        assertParseError("malformed/netdev-short-line", line: 4, contains: "found 6", parse: parse)
        assertParseError("malformed/netdev-non-numeric", line: 3, contains: "counter 9", parse: parse)
    }
}
