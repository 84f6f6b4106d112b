import FleetModel
import Foundation
@testable import MonitorServer
import XCTest

/// The MESSAGE_ID table against the shipped catalog (systemd/monitor.catalog):
/// `journalctl -x` explains a record only if its id has an entry there, and an entry
/// without an id in the table explains nothing the daemons send.
final class TransitionMessageIDTests: XCTestCase {
    /// One `-- <id>` entry of a journald catalog file: its header fields and text.
    private struct CatalogEntry {
        var id: String
        var headers: [String: [String]] = [:]
        var text: [String] = []
    }

    private static let catalogPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd/monitor.catalog").path

    /// Parses the catalog the way journalctl's catalog importer does: `#` lines are
    /// comments, `-- ID [LANG]` opens an entry, `Key: value` lines up to the first
    /// empty line are its header, the rest up to the next `--` its text.
    private func catalog() throws -> [CatalogEntry] {
        let text = try String(contentsOfFile: Self.catalogPath, encoding: .utf8)
        var entries: [CatalogEntry] = []
        var inHeader = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("-- ") {
                let id = line.dropFirst(3).split(separator: " ").first.map(String.init) ?? ""
                entries.append(CatalogEntry(id: id))
                inHeader = true
                continue
            }
            guard !entries.isEmpty else {
                XCTAssertTrue(line.isEmpty, "\(Self.catalogPath): text before the first '-- <id>' line: \(line)")
                continue
            }
            if inHeader, let colon = line.firstIndex(of: ":"), !line.isEmpty {
                let key = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                entries[entries.count - 1].headers[key, default: []].append(value)
            } else {
                inHeader = false
                entries[entries.count - 1].text.append(line)
            }
        }
        return entries
    }

    func testIDsAre32LowercaseHexAndUnique() {
        let ids = TransitionMessageID.all.map(\.id)
        XCTAssertEqual(ids.count, FleetState.Event.allCases.count)
        for (event, id) in TransitionMessageID.all {
            XCTAssertNotNil(id.wholeMatch(of: /[0-9a-f]{32}/), "\(event): \(id) is not 32 lowercase hex digits")
        }
        XCTAssertEqual(Set(ids).count, ids.count, "an id is used for two events: \(ids)")
    }

    func testIDsAreNotSequential() {
        // The old ids differed in their last digit only; random ids share no prefix.
        let prefixes = Set(TransitionMessageID.all.map { $0.id.prefix(8) })
        XCTAssertEqual(prefixes.count, TransitionMessageID.all.count, "ids look derived from one another")
    }

    func testEveryIDHasACatalogEntryAndViceVersa() throws {
        let entries = try catalog()
        let catalogIDs = entries.map(\.id)
        XCTAssertEqual(Set(catalogIDs).count, catalogIDs.count, "\(Self.catalogPath): an id has two entries")
        let tableIDs = Set(TransitionMessageID.all.map(\.id))
        for (event, id) in TransitionMessageID.all where !catalogIDs.contains(id) {
            XCTFail("\(Self.catalogPath): no entry '-- \(id)' for \(event.rawValue)")
        }
        for id in catalogIDs where !tableIDs.contains(id) {
            XCTFail("\(Self.catalogPath): entry '-- \(id)' has no event in TransitionMessageID")
        }
    }

    func testEveryEntryHasTheHeadersAndAText() throws {
        let entries = try catalog()
        XCTAssertFalse(entries.isEmpty, "\(Self.catalogPath): no entry")
        for entry in entries {
            let name = "\(Self.catalogPath): entry \(entry.id)"
            XCTAssertEqual(entry.headers["Defined-By"], ["monitor"], name)
            XCTAssertEqual(entry.headers["Subject"]?.count, 1, "\(name): one Subject expected")
            XCTAssertTrue(entry.headers["Subject"]?.first?.contains("@NODE@") ?? false, "\(name): Subject names @NODE@")
            XCTAssertTrue(entry.headers["Documentation"]?.contains("man:monitor-serverd(8)") ?? false, name)
            XCTAssertNotNil(entry.headers["Support"], name)
            XCTAssertTrue(entry.text.contains { !$0.isEmpty }, "\(name): no explanation text")
        }
    }

    func testEachEventSubjectNamesItsEvent() throws {
        let subjects = Dictionary(uniqueKeysWithValues: try catalog().map { ($0.id, $0.headers["Subject"]?.first ?? "") })
        let words: [FleetState.Event: String] = [
            .alive: "ALIVE", .left: "LEFT", .dead: "DEAD", .stale: "STALE",
            .cpuHigh: "CPU usage high", .cpuOK: "CPU usage back", .memoryHigh: "memory usage high", .memoryOK: "memory usage back",
            .clockSkew: "clock is off", .clockOK: "clock back", .nameConflict: "two machines",
        ]
        for (event, id) in TransitionMessageID.all {
            let word = try XCTUnwrap(words[event], "\(event) has no expected subject here")
            XCTAssertTrue(subjects[id]?.contains(word) ?? false, "entry \(id) (\(event.rawValue)): subject \(subjects[id] ?? "none") lacks '\(word)'")
        }
    }
}
