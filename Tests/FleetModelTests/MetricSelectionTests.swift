@testable import FleetModel
import XCTest

final class MetricSelectionTests: XCTestCase {
    func testExactNames() {
        XCTAssertEqual(MetricName.allCases.map(\.rawValue),
                       ["cpu", "memory", "disk read", "disk write", "net in", "net out"])
        let selection = MetricSelection(names: MetricName.allCases.map(\.rawValue))
        XCTAssertEqual(selection.metrics, Set(MetricName.allCases))
        XCTAssertEqual(selection.unknown, [])
    }

    func testShorthandsExpand() {
        XCTAssertEqual(MetricSelection(names: ["disk"]).metrics, [.diskRead, .diskWrite])
        XCTAssertEqual(MetricSelection(names: ["net"]).metrics, [.netIn, .netOut])
        XCTAssertEqual(MetricSelection(names: ["cpu", "net", "net in"]).metrics, [.cpu, .netIn, .netOut])
    }

    func testUnknownNamesAreListedOnceInOrderAndIgnored() {
        let selection = MetricSelection(names: ["cpu", "swap", "CPU", "disk_read", "swap", "memory"])
        XCTAssertEqual(selection.metrics, [.cpu, .memory])
        XCTAssertEqual(selection.unknown, ["swap", "CPU", "disk_read"])
    }

    func testSurroundingWhitespaceIsIgnored() {
        let selection = MetricSelection(names: [" cpu", "disk read\t", "  "])
        XCTAssertEqual(selection.metrics, [.cpu, .diskRead])
        XCTAssertEqual(selection.unknown, [""])
    }

    func testEmptyListSelectsNothing() {
        XCTAssertEqual(MetricSelection(names: []), MetricSelection(names: []))
        XCTAssertTrue(MetricSelection(names: []).metrics.isEmpty)
    }

    func testSortedFollowsDeclarationOrder() {
        XCTAssertEqual(MetricSelection(names: ["net", "memory", "disk", "cpu"]).sorted, MetricName.allCases)
    }
}
