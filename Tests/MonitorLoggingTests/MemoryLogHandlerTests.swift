import Foundation
import Logging
import LoggingTestKit
import MonitorLogging
import XCTest

final class MemoryLogHandlerTests: XCTestCase {
    private struct Refused: Error {}

    func testCapturesLevelMessageAndMetadata() {
        var (logger, store) = MemoryLogHandler.makeLogger(label: "test", level: .info)
        logger[metadataKey: "node"] = "worker1"
        logger.debug("below the level")
        logger.warning("etcd unreachable", metadata: ["attempt": .stringConvertible(3)])
        logger.logLevel = .debug
        logger.debug("now visible")
        XCTAssertEqual(store.records, [
            LogRecord(level: .warning, message: "etcd unreachable", metadata: ["node": "worker1", "attempt": "3"]),
            LogRecord(level: .debug, message: "now visible", metadata: ["node": "worker1"]),
        ])
        XCTAssertEqual(store.messages(at: .warning), ["etcd unreachable"])
        XCTAssertEqual(store.records(containing: "visible").count, 1)
        store.removeAll()
        XCTAssertEqual(store.records, [])
    }

    func testMergeOrderHandlerThenProviderThenCall() {
        let provider = Logger.MetadataProvider { ["a": "provider", "b": "provider"] }
        var (logger, store) = MemoryLogHandler.makeLogger(label: "test", metadataProvider: provider)
        logger[metadataKey: "a"] = "handler"
        logger[metadataKey: "b"] = "handler"
        logger[metadataKey: "c"] = "handler"
        logger.error("refused", error: Refused(), metadata: ["b": "call"])
        XCTAssertEqual(store.records.first?.metadata, [
            "a": "provider", "b": "call", "c": "handler",
            "error.message": "\(Refused())", "error.type": String(reflecting: Refused.self),
        ])
    }

    func testCopiesShareTheStoreButNotTheirMetadata() {
        let (logger, store) = MemoryLogHandler.makeLogger(label: "test")
        var copy = logger
        copy[metadataKey: "only"] = "copy"
        logger.info("original")
        copy.info("copy")
        XCTAssertEqual(store.records.map(\.metadata), [[:], ["only": "copy"]])
    }

    func testConcurrentLogging() {
        let (logger, store) = MemoryLogHandler.makeLogger(label: "test")
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in 0..<250 { logger.info("\(worker)-\(index)") }
        }
        XCTAssertEqual(store.records.count, 1_000)
        XCTAssertEqual(Set(store.records.map(\.message)).count, 1_000)
    }
}
