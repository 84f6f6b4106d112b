import Concurrency
import FleetModel
@testable import MonitorServer
import XCTest

/// The verdicts held until etcd is asked, with a fake clock.
final class VerdictGateTests: XCTestCase {
    private func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: UInt64(seconds * 1e9)) }
    private func t(_ node: String, _ event: FleetState.Event) -> FleetState.Transition {
        FleetState.Transition(node: node, event: event, detail: "", state: event == .dead ? .dead : event == .stale ? .stale : .alive)
    }

    func testStaleWaitsForTheAlarmListAndIsPardonedWhileEtcdIsFull() {
        var gate = VerdictGate()
        var out = gate.transitions([t("a", .stale), t("b", .stale), t("c", .alive)], now: at(0), lease: { _ in 7 })
        XCTAssertEqual(out.log, [t("c", .alive)], "STALE is held")
        XCTAssertEqual(out.requests, [], "until the watch is heard from")
        XCTAssertEqual(gate.watchHeard(now: at(0.5)).requests, [.checkAlarms], "asked once")
        _ = gate.transitions([t("d", .stale)], now: at(0.5), lease: { _ in 7 })
        XCTAssertEqual(gate.watchHeard(now: at(0.6)).requests, [], "already asked")

        out = gate.alarmsRead(noSpace: true, now: at(10), isStale: { $0 != "b" })
        XCTAssertEqual(out.pardon, ["a", "d"], "b's rounds resumed meanwhile")
        XCTAssertEqual(out.notices, [.etcdFull(silenced: 2)])
        XCTAssertTrue(gate.etcdFull)
        XCTAssertEqual(gate.transitions([t("e", .stale)], now: at(0), lease: { _ in 7 }).pardon, ["e"], "pardoned at once while full")
        XCTAssertEqual(gate.nextDeadline, at(15))
        XCTAssertEqual(gate.deadlineReached(now: at(15)).requests, [.checkAlarms], "re-read every 5 s")
        out = gate.alarmsRead(noSpace: true, now: at(15), isStale: { _ in true })
        XCTAssertEqual(out.notices, [], "said once")

        out = gate.alarmsRead(noSpace: false, now: at(20), isStale: { _ in true })
        XCTAssertEqual(out.notices, [.etcdWritable])
        XCTAssertFalse(gate.etcdFull)
        XCTAssertNil(gate.nextDeadline)
        _ = gate.transitions([t("f", .stale)], now: at(0), lease: { _ in 7 })
        _ = gate.watchHeard(now: at(21))
        XCTAssertEqual(gate.alarmsRead(noSpace: false, now: at(21), isStale: { _ in true }).log, [t("f", .stale)], "verdicts stand")
        _ = gate.transitions([t("g", .stale)], now: at(0), lease: { _ in 7 })
        _ = gate.watchHeard(now: at(22))
        XCTAssertEqual(gate.alarmsRead(noSpace: nil, now: at(22), isStale: { _ in true }).log, [t("g", .stale)],
                       "the list could not be read: the verdict stands")
    }

    /// Some etcd versions let only root read alarms. The server cannot then tell
    /// a NOSPACE alarm from hung agents: it says so once per episode, and its
    /// STALE verdicts stand.
    func testAnUnreadableAlarmListIsSaidOnceAndTheVerdictsStand() {
        var gate = VerdictGate()
        var said: [VerdictGate.Notice] = []
        for (i, node) in ["a", "b", "c"].enumerated() {
            _ = gate.transitions([t(node, .stale)], now: at(Double(i * 10)), lease: { _ in 7 })
            _ = gate.watchHeard(now: at(Double(i * 10 + 1)))
            let out = gate.alarmsRead(noSpace: nil, failure: "permission denied", now: at(Double(i * 10 + 1)),
                                      isStale: { _ in true })
            XCTAssertEqual(out.log, [t(node, .stale)], "the verdict stands")
            said += out.notices
        }
        XCTAssertEqual(said, [.alarmsUnreadable(reason: "permission denied")], "once, not per verdict")
        _ = gate.transitions([t("d", .stale)], now: at(40), lease: { _ in 7 })
        _ = gate.watchHeard(now: at(41))
        XCTAssertEqual(gate.alarmsRead(noSpace: false, now: at(41), isStale: { _ in true }).notices, [.alarmsReadable])
        _ = gate.transitions([t("e", .stale)], now: at(50), lease: { _ in 7 })
        _ = gate.watchHeard(now: at(51))
        XCTAssertEqual(gate.alarmsRead(noSpace: nil, failure: "timeout", now: at(51), isStale: { _ in true }).notices,
                       [.alarmsUnreadable(reason: "timeout")], "a new episode is said again")
    }

    func testStaleFromABlindViewIsDroppedAndOnlyAWordFromTheWatchAfterItConfirmsIt() {
        var gate = VerdictGate()
        XCTAssertEqual(gate.transitions([t("a", .stale)], now: at(10), lease: { _ in 7 }), .init(), "held")
        XCTAssertEqual(gate.watchHeard(now: at(10)), .init(), "a word from before (or at) the verdict proves nothing")
        // The watch's member froze: the probe failed and the watch broke.
        XCTAssertEqual(gate.watchLost().pardon, ["a"], "never reported")
        XCTAssertEqual(gate.watchHeard(now: at(20)), .init(), "nothing left to confirm")

        _ = gate.transitions([t("b", .stale)], now: at(30), lease: { _ in 7 })
        XCTAssertEqual(gate.watchHeard(now: at(31)).requests, [.checkAlarms], "confirmed: on to the alarm check")
        XCTAssertEqual(gate.watchLost(), .init(), "a confirmed verdict is not dropped by a later break")
        XCTAssertEqual(gate.alarmsRead(noSpace: false, now: at(32), isStale: { _ in true }).log, [t("b", .stale)])
    }

    func testAStaleNeverReportedMakesItsAliveNoNews() {
        var gate = VerdictGate()
        _ = gate.transitions([t("a", .stale), t("b", .stale)], now: at(1), lease: { _ in 7 })
        _ = gate.watchHeard(now: at(2))
        var alive = t("a", .alive)
        alive.detail = "rounds resumed"
        XCTAssertEqual(gate.transitions([alive, t("b", .alive)], now: at(2.5), lease: { _ in 7 }).log, [],
                       "a held in the alarm stage, b too: neither STALE was said")
        XCTAssertEqual(gate.alarmsRead(noSpace: false, now: at(3), isStale: { _ in true }).log, [], "nothing left to say")
        _ = gate.transitions([t("c", .stale)], now: at(4), lease: { _ in 7 })
        XCTAssertEqual(gate.transitions([t("c", .alive)], now: at(4.5), lease: { _ in 7 }).log, [], "held for the watch")
        XCTAssertEqual(gate.transitions([t("d", .alive)], now: at(5), lease: { _ in 7 }).log, [t("d", .alive)])
    }

    /// A takeover reports a DEAD the watch already gave while its lease lookup
    /// was in flight: one lookup, one line.
    func testTheSameDeadTwiceIsCheckedAndReportedOnce() {
        var gate = VerdictGate()
        XCTAssertEqual(gate.transitions([t("o2", .dead)], now: at(0), lease: { _ in 7 }).requests, [.checkLease(node: "o2", lease: 7)])
        XCTAssertEqual(gate.transitions([t("o2", .dead)], now: at(1), lease: { _ in 7 }).requests, [], "already being checked")
        XCTAssertEqual(gate.leaseChecked(node: "o2", lease: 7, ttl: nil, known: true, now: at(2), stillDead: true).log, [t("o2", .dead)])
        XCTAssertEqual(gate.leaseChecked(node: "o2", lease: 7, ttl: nil, known: true, now: at(2), stillDead: true), .init(),
                       "a second answer says nothing")
    }

    func testDeadWaitsForTheLeaseAndAStrayDeleteIsNoDeath() {
        var gate = VerdictGate()
        XCTAssertEqual(gate.transitions([t("x", .dead)], now: at(0), lease: { _ in nil }).log, [t("x", .dead)], "no lease known: it stands")
        var out = gate.transitions([t("a", .dead), t("b", .dead), t("c", .dead)], now: at(0), lease: { _ in 7 })
        XCTAssertEqual(out.log, [])
        XCTAssertEqual(out.requests, [.checkLease(node: "a", lease: 7), .checkLease(node: "b", lease: 7), .checkLease(node: "c", lease: 7)])

        // a: the lease is gone, a real death.
        XCTAssertEqual(gate.leaseChecked(node: "a", lease: 7, ttl: nil, known: true, now: at(1), stillDead: true).log, [t("a", .dead)])
        // b: its agent put the key back before etcd answered.
        XCTAssertEqual(gate.transitions([t("b", .alive)], now: at(0), lease: { _ in 7 }).notices, [.tampered(node: "b")])
        XCTAssertEqual(gate.leaseChecked(node: "b", lease: 7, ttl: 20, known: true, now: at(1), stillDead: false), .init())
        // c: the lease lives but nothing restored the key yet: asked again when it would run out.
        out = gate.leaseChecked(node: "c", lease: 7, ttl: 20, known: true, now: at(1), stillDead: true)
        XCTAssertEqual(out.notices, [.tampered(node: "c")])
        XCTAssertEqual(out.log, [])
        XCTAssertEqual(gate.nextDeadline, at(22))
        XCTAssertEqual(gate.deadlineReached(now: at(22)).requests, [.checkLease(node: "c", lease: 7)])
        XCTAssertEqual(gate.leaseChecked(node: "c", lease: 7, ttl: nil, known: true, now: at(22), stillDead: true).log,
                       [FleetState.Transition(node: "c", event: .dead, detail: "lease expired", state: .dead)],
                       "its agent never came back: dead with its lease")
        // etcd could not be asked: the death stands.
        _ = gate.transitions([t("d", .dead)], now: at(0), lease: { _ in 7 })
        XCTAssertEqual(gate.leaseChecked(node: "d", lease: 7, ttl: nil, known: false, now: at(2), stillDead: true).log, [t("d", .dead)])
    }

    func testResetForgetsEverything() {
        var gate = VerdictGate()
        _ = gate.transitions([t("a", .stale), t("b", .dead)], now: at(0), lease: { _ in 7 })
        _ = gate.watchHeard(now: at(0.5))
        _ = gate.alarmsRead(noSpace: true, now: at(1), isStale: { _ in true })
        gate.reset()
        XCTAssertFalse(gate.etcdFull)
        XCTAssertNil(gate.nextDeadline)
        _ = gate.transitions([t("c", .stale)], now: at(2), lease: { _ in 7 })
        XCTAssertEqual(gate.watchHeard(now: at(3)).requests, [.checkAlarms], "asks again")
    }
}
