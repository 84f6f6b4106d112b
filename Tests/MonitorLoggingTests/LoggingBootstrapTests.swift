import Logging
@testable import MonitorLogging
import XCTest

/// `LoggingSystem.bootstrap` may run once per process and every test target
/// of the package shares one process, so these tests check the factory that
/// ``LoggingBootstrap/bootstrap(identifier:level:metadataProvider:)`` installs
/// rather than installing it.
final class LoggingBootstrapTests: XCTestCase {
    func testJournalSinkMakesJournalHandler() {
        let provider = Logger.MetadataProvider { ["k": "v"] }
        let factory = LoggingBootstrap.makeFactory(sink: .journal, identifier: "monitor-agentd", level: .notice)
        let wrapper = factory("any label", provider) as? SharedLevelLogHandler
        let handler = wrapper?.inner as? JournalLogHandler
        XCTAssertEqual(handler?.identifier, "monitor-agentd")
        XCTAssertEqual(wrapper?.logLevel, .notice)
        XCTAssertEqual(handler?.metadataProvider?.get(), ["k": "v"])
    }

    func testStderrSinkMakesStderrHandler() {
        for timestamps in [true, false] {
            let factory = LoggingBootstrap.makeFactory(sink: .stderr(timestamps: timestamps), identifier: "x", level: .debug)
            let wrapper = factory("label", nil) as? SharedLevelLogHandler
            let handler = wrapper?.inner as? StderrLogHandler
            XCTAssertEqual(handler?.timestamps, timestamps)
            XCTAssertEqual(wrapper?.logLevel, .debug)
            XCTAssertEqual(handler?.fileDescriptor, STDERR_FILENO)
            XCTAssertNil(handler?.metadataProvider)
        }
    }

    func testSetLevelChangesEveryExistingHandler() {
        let factory = LoggingBootstrap.makeFactory(sink: .stderr(timestamps: false), identifier: "x", level: .info)
        let a = factory("a", nil), b = factory("b", nil)
        XCTAssertEqual(a.logLevel, .info)
        LoggingBootstrap.setLevel(.debug)
        XCTAssertEqual(a.logLevel, .debug)
        XCTAssertEqual(b.logLevel, .debug)
        LoggingBootstrap.setLevel(.info)
    }
}
