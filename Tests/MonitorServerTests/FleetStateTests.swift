import EtcdClient
import Foundation
import FleetModel
import MonitorSettings
@testable import MonitorServer
import XCTest

/// The server's transition logic, fed by hand: each transition reported once.
final class FleetStateTests: XCTestCase {
    let layout = KeyLayout(prefix: "/m")
    var fleet = FleetState(layout: KeyLayout(prefix: "/m"))

    func hb(_ node: String, status: String = "alive", interval: Double = 10, cpu: Double? = nil) -> KeyValue {
        var beat = Heartbeat(status: status, ts: 1000, hostname: node, interval: interval, node: node)
        if let cpu { beat.metrics = ["cpu": cpu, "memory": 10] }
        return KeyValue(key: layout.heartbeat(node), value: beat.encoded())
    }

    func reg(_ node: String, stopped: Bool = false) -> KeyValue {
        KeyValue(key: layout.registry(node), value: NodeRecord(node: node, hostname: node, version: "0.1.0", firstStart: 1,
                                                                 lastStart: 2, stopped: stopped, stoppedAt: stopped ? 3 : nil).encoded())
    }

    func names(_ t: [FleetState.Transition]) -> [String] { t.map { "\($0.node) \($0.event.rawValue)" } }

    func testSnapshotReportsLiveNodesAndKeepsKnownDeathsAsState() {
        let t = fleet.apply(snapshot: [hb("a"), reg("a"), reg("b"), reg("c", stopped: true)], now: 100)
        XCTAssertEqual(names(t), ["a ALIVE"])
        XCTAssertEqual(fleet.state(of: "b"), .dead)
        XCTAssertEqual(fleet.state(of: "c"), .stopped)
        XCTAssertEqual(fleet.view(now: 100).summary, "3 nodes: 1 alive, 1 stopped, 1 dead")
        XCTAssertEqual(fleet.summary, fleet.view(now: 100).summary, "running counts agree with the view")
    }

    func testPutsAreNotTransitionsAndDeletesAreLeftOrDeadByTheStoppingMark() {
        XCTAssertEqual(names(fleet.apply(events: [WatchEvent(kind: .put, kv: hb("a"))], now: 1)), ["a ALIVE"])
        XCTAssertEqual(names(fleet.apply(events: [WatchEvent(kind: .put, kv: hb("a"))], now: 2)), [])
        // Clean stop: registry mark, stopping put, delete carrying prev_kv.
        let stop = fleet.apply(events: [WatchEvent(kind: .put, kv: reg("a", stopped: true)),
                                        WatchEvent(kind: .put, kv: hb("a", status: "stopping")),
                                        WatchEvent(kind: .delete, kv: KeyValue(key: layout.heartbeat("a"), value: []),
                                                   previous: hb("a", status: "stopping"))], now: 3)
        XCTAssertEqual(names(stop), ["a LEFT"])
        // Restarted: the agent re-registers (not stopped) and beats again.
        XCTAssertEqual(names(fleet.apply(events: [WatchEvent(kind: .put, kv: hb("a")), WatchEvent(kind: .put, kv: reg("a"))],
                                         now: 4)), ["a ALIVE"])
        // Crash: the delete without a mark (and without prev_kv) is DEAD.
        let crash = fleet.apply(events: [WatchEvent(kind: .delete, kv: KeyValue(key: layout.heartbeat("a"), value: []))], now: 5)
        XCTAssertEqual(names(crash), ["a DEAD"])
        XCTAssertEqual(crash.first?.detail, "lease expired")
    }

    func testStaleAfterThreeRoundsThenAliveAgainAndDeadlinesAreExact() {
        _ = fleet.apply(events: [WatchEvent(kind: .put, kv: hb("a", interval: 2))], now: 100)
        XCTAssertEqual(fleet.nextDeadline() ?? 0, 106, accuracy: 0.01)
        XCTAssertEqual(names(fleet.tick(now: 105)), [])
        let stale = fleet.tick(now: 106.5)
        XCTAssertEqual(names(stale), ["a STALE"])
        XCTAssertEqual(names(fleet.tick(now: 200)), [], "reported once")
        XCTAssertNil(fleet.nextDeadline(), "nothing to wake for while stale")
        let back = fleet.apply(events: [WatchEvent(kind: .put, kv: hb("a", interval: 2))], now: 201)
        XCTAssertEqual(names(back), ["a ALIVE"])
        XCTAssertEqual(back.first?.detail, "rounds resumed")
    }

    func testThresholdWarningsHaveHysteresis() {
        var all: [String] = []
        for (i, cpu) in [10.0, 95, 97, 88, 86, 84, 92].enumerated() {
            all += names(fleet.apply(events: [WatchEvent(kind: .put, kv: hb("a", cpu: cpu))], now: Double(i)))
        }
        XCTAssertEqual(all, ["a ALIVE", "a CPU_HIGH", "a CPU_OK", "a CPU_HIGH"])
    }

    func testForgottenNodeDisappearsAndBadValuesStillCountAsAlive() {
        _ = fleet.apply(snapshot: [reg("gone")], now: 1)
        XCTAssertEqual(fleet.state(of: "gone"), .dead)
        _ = fleet.apply(events: [WatchEvent(kind: .delete, kv: KeyValue(key: layout.registry("gone"), value: []))], now: 2)
        XCTAssertNil(fleet.state(of: "gone"))
        XCTAssertEqual(fleet.summary, "0 nodes")
        let junk = fleet.apply(events: [WatchEvent(kind: .put, kv: KeyValue(key: layout.heartbeat("j"), value: Array("{{".utf8)))], now: 3)
        XCTAssertEqual(names(junk), ["j ALIVE"])
        XCTAssertNotNil(fleet.view(now: 3)["j"]?.valueError)
        XCTAssertEqual(fleet.summary, "1 node: 1 alive")
    }

    func testAResyncAfterAnOutageReportsOnlyWhatChanged() {
        _ = fleet.apply(snapshot: [hb("a"), reg("a"), hb("b"), reg("b")], now: 1)
        let t = fleet.apply(snapshot: [hb("a"), reg("a"), reg("b")], now: 50)
        XCTAssertEqual(names(t), ["b DEAD"])
    }
}
