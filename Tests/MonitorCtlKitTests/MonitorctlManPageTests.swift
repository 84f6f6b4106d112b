import Foundation
import XCTest

/// man/monitorctl.1 is written by hand; this keeps it from falling behind the
/// argument parser: every command path ("config set") and every long option the
/// built binary declares (`--experimental-dump-help`) must appear in the page.
final class MonitorctlManPageTests: XCTestCase {
    private static let manPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("man/monitorctl.1").path

    /// One command of the dump: its name, long options and subcommands.
    private struct Command {
        var path: [String]
        var longOptions: [String]
    }

    /// `json` (a command of the dump, at `path` below the root) and its subcommands.
    private func commands(_ json: [String: Any], path: [String]) -> [Command] {
        let arguments = json["arguments"] as? [[String: Any]] ?? []
        let longs = arguments.filter { $0["shouldDisplay"] as? Bool ?? true }.flatMap { argument in
            (argument["names"] as? [[String: Any]] ?? []).compactMap { n in
                n["kind"] as? String == "long" ? n["name"] as? String : nil
            }
        }
        var all = [Command(path: path, longOptions: longs)]
        for sub in json["subcommands"] as? [[String: Any]] ?? [] {
            all += commands(sub, path: path + [sub["commandName"] as? String ?? ""])
        }
        return all
    }

    func testEveryCommandAndLongOptionIsInTheManPage() throws {
        guard let binary = MonitorctlBinary.path else {
            throw XCTSkip("monitorctl binary not found next to the test bundle (build it: swift build --product monitorctl)")
        }
        let dump = try MonitorctlBinary.run(binary, ["--experimental-dump-help"])
        XCTAssertEqual(dump.code, 0, dump.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
        let root = try XCTUnwrap(json?["command"] as? [String: Any], "no \"command\" in the help dump")
        let page = try String(contentsOfFile: Self.manPath, encoding: .utf8)
        // As a reader sees it: roff's escaped hyphen and font changes removed.
        let text = page.replacingOccurrences(of: "\\-", with: "-")
            .replacingOccurrences(of: "\\fR", with: "").replacingOccurrences(of: "\\fI", with: "")
            .replacingOccurrences(of: "\\fB", with: "")
        let all = commands(root, path: [])
        XCTAssertGreaterThan(all.count, 4, "the dump lists the subcommands")
        for command in all where !command.path.isEmpty {
            let words = command.path.joined(separator: " ")
            XCTAssertTrue(text.contains(words), "\(Self.manPath): no section for 'monitorctl \(words)'")
            for option in command.longOptions {
                XCTAssertTrue(text.contains("--\(option)"), "\(Self.manPath): 'monitorctl \(words) --\(option)' is not described")
            }
        }
    }
}
