import Logging
import XCTest
import SystemdSupport

/// `LoggingSystem.bootstrap` may run once per process and every test target
/// of the package shares one process, so these tests check the factory that
/// ``LoggingBootstrap/bootstrap(identifier:level:metadataProvider:)`` installs
/// rather than installing it.
final class LoggingBootstrapTests: XCTestCase {
    func testJournalSinkMakesJournalHandler() {
        let provider = Logger.MetadataProvider { ["k": "v"] }
        let factory = LoggingBootstrap.makeFactory(sink: .journal, identifier: "monitor-agentd", level: .notice)
        let handler = factory("any label", provider) as? JournalLogHandler
        XCTAssertEqual(handler?.identifier, "monitor-agentd")
        XCTAssertEqual(handler?.logLevel, .notice)
        XCTAssertEqual(handler?.metadataProvider?.get(), ["k": "v"])
    }

    func testStderrSinkMakesStderrHandler() {
        for timestamps in [true, false] {
            let factory = LoggingBootstrap.makeFactory(sink: .stderr(timestamps: timestamps), identifier: "x", level: .debug)
            let handler = factory("label", nil) as? StderrLogHandler
            XCTAssertEqual(handler?.timestamps, timestamps)
            XCTAssertEqual(handler?.logLevel, .debug)
            XCTAssertEqual(handler?.fileDescriptor, STDERR_FILENO)
            XCTAssertNil(handler?.metadataProvider)
        }
    }
}
