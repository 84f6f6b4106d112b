import Foundation
@testable import MonitorSettings
import XCTest

/// man/monitor.conf.5 is written by hand for people; this keeps it true to the
/// settings table: every key in its section's part of the page, with its default
/// and its range, and the page's example files valid settings.
final class ManPageSettingsTests: XCTestCase {
    private static let manPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("man/monitor.conf.5").path

    /// The page as a reader sees its words: roff's escaped hyphens unescaped.
    private func page() throws -> String {
        try String(contentsOfFile: Self.manPath, encoding: .utf8).replacingOccurrences(of: "\\-", with: "-")
    }

    /// The text of one `.SH "[Section] SECTION"` up to the next `.SH`.
    private func section(_ name: SettingsSection, in page: String) throws -> Substring {
        let start = try XCTUnwrap(page.range(of: ".SH \"[\(name.rawValue)] SECTION\"\n"),
                                  "\(Self.manPath): no section [\(name.rawValue)]")
        let rest = page[start.upperBound...]
        return rest[..<(rest.range(of: "\n.SH ")?.lowerBound ?? rest.endIndex)]
    }

    /// One key's paragraph: from its `.BI Key=` line to the next `.TP`.
    private func paragraph(_ key: SettingsKey, in section: Substring) -> Substring? {
        guard let start = section.range(of: ".BI \(key.name)=") else { return nil }
        let rest = section[start.upperBound...]
        return rest[..<(rest.range(of: "\n.TP")?.lowerBound ?? rest.endIndex)]
    }

    func testEveryKeyWithItsDefaultAndRange() throws {
        let page = try page()
        for key in SettingsKey.all {
            let section = try section(key.section, in: page)
            let name = "\(Self.manPath): [\(key.section.rawValue)] \(key.name)"
            guard let text = paragraph(key, in: section) else {
                XCTFail("\(name): not described (expected a '.BI \(key.name)=' line in its section)")
                continue
            }
            let defaultLine = key.defaultText.isEmpty ? "Default: empty." : "Default:\n.BR \(key.defaultText) ."
            XCTAssertTrue(text.contains(defaultLine), "\(name): expected '\(defaultLine)'")
            // "a whole number of seconds from 2 to 3600" -> "from 2 to 3600".
            if let range = key.expected.range(of: #"from [0-9.]+ to [0-9.]+"#, options: .regularExpression) {
                let words = key.expected[range]
                XCTAssertTrue(text.replacingOccurrences(of: "\n", with: " ").contains(words), "\(name): expected '\(words)'")
            }
        }
    }

    func testNoKeyTheTableDoesNotKnow() throws {
        let page = try page()
        let known = Set(SettingsKey.all.map(\.name))
        for line in page.split(separator: "\n") where line.hasPrefix(".BI ") && line.contains("=") {
            let name = line.dropFirst(4).prefix { $0 != "=" }
            XCTAssertTrue(known.contains(String(name)), "\(Self.manPath): describes unknown key \(name)")
        }
    }

    func testExampleFilesAreValidSettings() throws {
        let page = try page()
        var examples: [String] = []
        var rest = page[...]
        while let start = rest.range(of: ".EX\n"), let end = rest[start.upperBound...].range(of: ".EE\n") {
            examples.append(String(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        let files = examples.filter { $0.hasPrefix("# /etc/monitor/") }
        XCTAssertEqual(files.count, 2, "\(Self.manPath): the main file and the drop-in examples")
        for file in files {
            XCTAssertNoThrow(try Settings.parse(file, file: Self.manPath), file)
        }
        let main = try Settings.parse(files[0], file: Self.manPath)
        XCTAssertEqual(main.etcd.endpoints.count, 3)
    }
}
