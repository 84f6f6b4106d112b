import Foundation
@testable import MonitorSettings
import XCTest

/// Loading from disk: main file, drop-ins, missing and unreadable files, and the
/// commented default file shipped in etc/monitor.
final class SettingsLoadTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("settings-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var mainPath: String { directory + "/monitor.conf" }

    private func write(_ name: String, _ text: String) throws {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private func loadError(required: Bool) -> SettingsError? {
        do {
            _ = try Settings.load(path: mainPath, required: required)
            return nil
        } catch {
            return error as? SettingsError
        }
    }

    func testMissingFileIsDefaultsUnlessRequired() throws {
        XCTAssertEqual(try Settings.load(path: mainPath, required: false), Settings())
        XCTAssertEqual(loadError(required: true),
                       SettingsError(file: mainPath, line: nil, message: "cannot open: No such file or directory"))
    }

    func testMainFileIsRead() throws {
        try write("monitor.conf", "[Agent]\nNodeName=n1\n")
        XCTAssertEqual(try Settings.load(path: mainPath, required: true).agent.nodeName, "n1")
        XCTAssertEqual(try Settings.load(path: mainPath, required: false).agent.nodeName, "n1")
    }

    func testDropInsOverrideInNameOrder() throws {
        try write("monitor.conf", "[Agent]\nNodeName=main\nLeaseTTLSec=7\n[Log]\nLevel=debug\n")
        try write("monitor.conf.d/20-b.conf", "[Agent]\nNodeName=b\n")
        try write("monitor.conf.d/10-a.conf", "[Agent]\nNodeName=a\nLeaseTTLSec=8\n")
        try write("monitor.conf.d/30-c.conf", "[Log]\nLevel=\n")
        let settings = try Settings.load(path: mainPath, required: true)
        XCTAssertEqual(settings.agent.nodeName, "b")
        XCTAssertEqual(settings.agent.leaseTTLSec, 8)
        XCTAssertEqual(settings.log.level, "info")  // reset to the default by 30-c
    }

    func testDropInsOrderIsByteOrder() throws {
        try write("monitor.conf.d/B.conf", "[Agent]\nNodeName=upper\n")
        try write("monitor.conf.d/a.conf", "[Agent]\nNodeName=lower\n")
        // "B" (0x42) sorts before "a" (0x61), so a.conf comes last and wins.
        XCTAssertEqual(try Settings.load(path: mainPath, required: false).agent.nodeName, "lower")
    }

    func testDropInsApplyWithoutMainFile() throws {
        try write("monitor.conf.d/x.conf", "[Agent]\nNodeName=x\n")
        XCTAssertEqual(try Settings.load(path: mainPath, required: false).agent.nodeName, "x")
        XCTAssertEqual(loadError(required: true)?.file, mainPath)
    }

    func testOnlyVisibleConfFilesAreDropIns() throws {
        try write("monitor.conf.d/a.conf", "[Agent]\nNodeName=a\n")
        try write("monitor.conf.d/z.conf.bak", "garbage\n")
        try write("monitor.conf.d/z.conf~", "garbage\n")
        try write("monitor.conf.d/README", "garbage\n")
        try write("monitor.conf.d/.z.conf", "garbage\n")
        try FileManager.default.createDirectory(atPath: directory + "/monitor.conf.d/dir.conf",
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory + "/monitor.conf.d/zz-dangling.conf",
                                                   withDestinationPath: directory + "/nowhere.conf")
        XCTAssertEqual(try Settings.load(path: mainPath, required: false).agent.nodeName, "a")
    }

    func testSymlinkedDropInIsRead() throws {
        try write("shared.conf", "[Agent]\nNodeName=linked\n")
        try FileManager.default.createDirectory(atPath: directory + "/monitor.conf.d",
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory + "/monitor.conf.d/50-shared.conf",
                                                   withDestinationPath: directory + "/shared.conf")
        XCTAssertEqual(try Settings.load(path: mainPath, required: false).agent.nodeName, "linked")
    }

    func testErrorInDropInNamesTheDropIn() throws {
        try write("monitor.conf", "[Agent]\nNodeName=main\n")
        try write("monitor.conf.d/10-bad.conf", "# bad\n[Agent]\nLeaseTTLSec=1\n")
        XCTAssertEqual(loadError(required: true),
                       SettingsError(file: directory + "/monitor.conf.d/10-bad.conf", line: 3,
                                     message: "LeaseTTLSec=\"1\": expected a whole number of seconds from 2 to 3600"))
    }

    func testMainPathThatIsADirectoryIsAnError() throws {
        try FileManager.default.createDirectory(atPath: mainPath, withIntermediateDirectories: true)
        XCTAssertEqual(loadError(required: false),
                       SettingsError(file: mainPath, line: nil, message: "not a regular file (a directory); expected a settings file"))
    }

    /// A FIFO, a device or a huge file is refused at once: nothing blocks, nothing
    /// is read into memory.
    func testOnlyRegularFilesOfAtMostOneMebibyteAreRead() throws {
        let fifo = directory + "/fifo.conf"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = Date()
        XCTAssertThrowsError(try Settings.load(path: fifo, required: true)) {
            XCTAssertEqual($0 as? SettingsError, SettingsError(file: fifo, line: nil, message: "not a regular file (a FIFO); expected a settings file"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "a FIFO without a writer does not block")
        XCTAssertThrowsError(try Settings.load(path: "/dev/zero", required: true)) {
            XCTAssertEqual($0 as? SettingsError, SettingsError(file: "/dev/zero", line: nil,
                                                               message: "not a regular file (a character device); expected a settings file"))
        }
        let huge = directory + "/huge.conf"
        XCTAssertTrue(FileManager.default.createFile(atPath: huge, contents: Data(count: (1 << 20) + 1)))
        XCTAssertThrowsError(try Settings.load(path: huge, required: true)) {
            XCTAssertEqual($0 as? SettingsError, SettingsError(file: huge, line: nil,
                                                               message: "1048577 bytes; a settings file is at most 1024 KiB"))
        }
    }

    func testDropInPathThatIsAFileIsAnError() throws {
        try write("monitor.conf.d", "not a directory\n")
        XCTAssertEqual(loadError(required: false),
                       SettingsError(file: mainPath + ".d", line: nil,
                                     message: "cannot open drop-in directory: Not a directory"))
    }

    func testUnreadableFileIsAnErrorNamingIt() throws {
        try XCTSkipIf(geteuid() == 0, "root reads files regardless of their permissions")
        try write("monitor.conf", "[Agent]\n")
        XCTAssertEqual(chmod(mainPath, 0), 0)
        XCTAssertEqual(loadError(required: false),
                       SettingsError(file: mainPath, line: nil, message: "cannot open: Permission denied"))
    }

    func testNonUTF8FileNamesTheLine() throws {
        var bytes = Array("# ok\n[Agent]\nNodeName=".utf8)
        bytes += [0xFF, 0xFE, UInt8(ascii: "\n")]
        try Data(bytes).write(to: URL(fileURLWithPath: mainPath))
        XCTAssertEqual(loadError(required: false),
                       SettingsError(file: mainPath, line: 3, message: "invalid UTF-8; expected UTF-8 text"))
    }

    // MARK: - The shipped default file

    /// etc/monitor/monitor.conf at the package root, found from this source file.
    private var shippedDefaultFile: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("etc/monitor/monitor.conf").path
    }

    func testShippedDefaultFileParsesToDefaults() throws {
        let path = shippedDefaultFile
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "\(path) absent")
        let text = try XCTUnwrap(SettingsFile.readText(path))
        XCTAssertEqual(try Settings.parse(text, file: path), Settings())

        // Uncommenting every key gives the defaults too, so the documented values are real.
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.hasPrefix("#") && line.contains("=") && !line.hasPrefix("# ") ? line.dropFirst() : line }
            .joined(separator: "\n")
        XCTAssertEqual(try Settings.parse(uncommented, file: path), Settings())
    }

    func testShippedDefaultFileListsEveryKeyWithItsDefault() throws {
        let path = shippedDefaultFile
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "\(path) absent")
        let lines = try XCTUnwrap(SettingsFile.readText(path)).split(separator: "\n").map(String.init)
        for key in SettingsKey.all {
            let header = try XCTUnwrap(lines.firstIndex(of: "[\(key.section.rawValue)]"), key.section.rawValue)
            let assignment = try XCTUnwrap(lines.firstIndex(of: "#\(key.name)=\(key.defaultText)"), key.name)
            XCTAssertLessThan(header, assignment, key.name)
            let nextHeader = lines[(header + 1)...].firstIndex { $0.hasPrefix("[") } ?? lines.count
            XCTAssertLessThan(assignment, nextHeader, "\(key.name) is not in [\(key.section.rawValue)]")
            XCTAssertTrue(lines[assignment - 1].hasPrefix("# "), "\(key.name) has no explanation above it")
        }
    }
}
