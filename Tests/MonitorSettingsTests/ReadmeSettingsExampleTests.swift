import Foundation

import MonitorSettings
import XCTest

/// The settings example an operator copies from the README must be valid.
final class ReadmeSettingsExampleTests: XCTestCase {
    func testTheREADMEsSettingsExampleParses() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../README.md").standardized.path
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        let start = try XCTUnwrap(text.range(of: "```ini\n"))
        let end = try XCTUnwrap(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let settings = try Settings.parse(String(text[start.upperBound..<end.lowerBound]), file: "README.md")
        XCTAssertEqual(settings.etcd.endpoints.count, 3)
        XCTAssertEqual(settings.agent.nodeName, "")
        XCTAssertEqual(settings.agent.leaseTTLSec, 5)
        XCTAssertEqual(settings.log.level, "info")
    }
}
