import Foundation
import XCTest

/// `make bench` at a small size, for correctness only (the figures come from
/// `make bench`): 300 simulated agents against the real server, then 1 %
/// killed and 1 % stopped cleanly. Every killed node must be reported DEAD,
/// every stopped one LEFT, nothing else.
final class FleetBenchTests: XCTestCase {
    func testThreeHundredNodesNothingMissedNothingFalse() throws {
        let bench = DaemonProcess.binary("monitor-bench")
        guard FileManager.default.isExecutableFile(atPath: bench) else {
            throw XCTSkip("monitor-bench not built next to the tests (swift build --build-tests builds it)")
        }
        let json = NSTemporaryDirectory() + "bench-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try DaemonProcess("monitor-bench", arguments: ["--nodes", "300", "--ttl", "5", "--interval", "5",
                                                                 "--window", "3", "--json", json])
        let code = run.waitExit(timeout: 90)
        if code == nil {
            run.signal(SIGTERM) // the bench stops its etcd and server on SIGTERM
            _ = run.waitExit(timeout: 10)
        }
        XCTAssertEqual(code, 0, run.output)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
                                   as? [String: Any])
        XCTAssertEqual(report["missedTransitions"] as? Int, 0, run.output)
        XCTAssertEqual(report["falseTransitions"] as? Int, 0, run.output)
        XCTAssertEqual((report["dead"] as? [String: Any])?["count"] as? Int, 3, "every killed node DEAD")
        XCTAssertEqual((report["left"] as? [String: Any])?["count"] as? Int, 3, "every stopped node LEFT")
        XCTAssertEqual((report["counters"] as? [String: Any])?["errors"] as? Int, 0, "no etcd request failed")
        XCTAssertGreaterThanOrEqual(report["serverStopSeconds"] as? Double ?? -1, 0, "SIGTERM honoured")
    }
}
