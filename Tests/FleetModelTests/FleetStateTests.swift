@testable import FleetModel
import XCTest

/// The server's transition logic, fed by hand: each transition reported once.
final class FleetStateTests: XCTestCase {
    let layout = KeyLayout(prefix: "/m")
    var fleet = FleetState(layout: KeyLayout(prefix: "/m"))

    func hb(_ node: String, status: String = "alive", interval: Double = 10, cpu: Double? = nil) -> FleetChange {
        var beat = Heartbeat(status: status, ts: 1000, hostname: node, interval: interval, node: node)
        if let cpu { beat.metrics = ["cpu": cpu, "memory": 10] }
        return FleetChange(key: layout.heartbeat(node), value: beat.encoded())
    }

    func reg(_ node: String, stopped: Bool = false) -> FleetChange {
        FleetChange(key: layout.registry(node), value: NodeRecord(node: node, hostname: node, version: "0.1.0", firstStart: 1,
                                                                 lastStart: 2, stopped: stopped, stoppedAt: stopped ? 3 : nil).encoded())
    }

    func names(_ t: [FleetState.Transition]) -> [String] { t.map { "\($0.node) \($0.event.rawValue)" } }

    func testSnapshotReportsLiveNodesAndKeepsKnownDeathsAsState() {
        let t = fleet.apply(snapshot: kvs([hb("a"), reg("a"), reg("b"), reg("c", stopped: true)]), now: 100)
        XCTAssertEqual(names(t), ["a ALIVE"])
        XCTAssertEqual(fleet.state(of: "b"), .dead)
        XCTAssertEqual(fleet.state(of: "c"), .stopped)
        XCTAssertEqual(fleet.view(now: 100).summary, "3 nodes: 1 alive, 1 stopped, 1 dead")
        XCTAssertEqual(fleet.summary, fleet.view(now: 100).summary, "running counts agree with the view")
    }

    func testPutsAreNotTransitionsAndDeletesAreLeftOrDeadByTheStoppingMark() {
        XCTAssertEqual(names(fleet.apply(changes: [hb("a")], now: 1)), ["a ALIVE"])
        XCTAssertEqual(names(fleet.apply(changes: [hb("a")], now: 2)), [])
        // Clean stop: registry mark, stopping put, delete carrying prev_kv.
        let stop = fleet.apply(changes: [reg("a", stopped: true),
                                        hb("a", status: "stopping"),
                                        FleetChange(key: layout.heartbeat("a"), value: nil,
                                                    previous: hb("a", status: "stopping").value)], now: 3)
        XCTAssertEqual(names(stop), ["a LEFT"])
        // Restarted: the agent re-registers (not stopped) and beats again.
        XCTAssertEqual(names(fleet.apply(changes: [hb("a"), reg("a")],
                                         now: 4)), ["a ALIVE"])
        // Crash: the delete without a mark (and without prev_kv) is DEAD.
        let crash = fleet.apply(changes: [FleetChange(key: layout.heartbeat("a"), value: nil)], now: 5)
        XCTAssertEqual(names(crash), ["a DEAD"])
        XCTAssertEqual(crash.first?.detail, "lease expired")
    }

    /// A heartbeat claiming an interval no agent can have is flagged, and judged by
    /// the default interval: 50 puts claiming 0.001 s gave 50 STALE and 50 ALIVE.
    func testAnImplausibleIntervalNeverDrivesTransitions() {
        var transitions: [String] = []
        for i in 0..<50 {
            let now = 100 + Double(i) * 0.5
            transitions += names(fleet.apply(changes: [hb("a", interval: 0.001)], now: now))
            transitions += names(fleet.tick(now: now + 0.25))
        }
        XCTAssertEqual(transitions, ["a ALIVE"])
        // The same round re-put (same ts): stale 3 default rounds after it was first seen.
        XCTAssertEqual(fleet.nextDeadline() ?? 0, 100 + 30, accuracy: 0.01, "3 rounds of the default 10 s")
        XCTAssertEqual(fleet.node(named: "a", now: 125)?.valueError,
                       "heartbeat: interval 0.001 s is outside 1 to 86400; judged by the default 10s")
        var other = FleetState(layout: layout)
        _ = other.apply(changes: [hb("b", interval: 1e9)], now: 100)
        XCTAssertEqual(other.nextDeadline() ?? 0, 130, accuracy: 0.01, "a year-long interval cannot hide a hang")
    }

    /// Staleness the server knows is not the node's fault (etcd refused every
    /// write): no transition, the stale clock restarts, a real hang is still caught.
    func testAPardonRestartsTheStaleClockWithoutATransition() {
        _ = fleet.apply(changes: [hb("a", interval: 2), hb("b", interval: 2)], now: 100)
        XCTAssertEqual(names(fleet.tick(now: 106.5)), ["a STALE", "b STALE"])
        fleet.pardon(["a", "b"], now: 106.5)
        XCTAssertEqual(fleet.state(of: "a"), .alive)
        XCTAssertEqual(fleet.summary, "2 nodes: 2 alive")
        XCTAssertEqual(fleet.node(named: "a", now: 107)?.lastSeen, 100, "last seen is what was seen")
        XCTAssertEqual(fleet.node(named: "a", now: 107)?.since, 100, "alive since before the pardon")
        // b's rounds resume; a stays silent and is stale a full period after the pardon.
        var beat = Heartbeat(status: "alive", ts: 1001, hostname: "b", interval: 2, node: "b")
        beat.seq = 2
        XCTAssertEqual(names(fleet.apply(changes: [FleetChange(key: layout.heartbeat("b"), value: beat.encoded())], now: 108)), [])
        XCTAssertEqual(names(fleet.tick(now: 112.4)), [])
        XCTAssertEqual(names(fleet.tick(now: 112.6)), ["a STALE"])
        fleet.pardon(["c"], now: 113)
        XCTAssertEqual(fleet.summary, "2 nodes: 1 alive, 1 stale", "unknown names are ignored")
    }

    private func put(_ node: String, status: String = "alive", ts: Double = 1000, lease: Int64?) -> FleetChange {
        var change = hb(node, status: status)
        change.value = Heartbeat(status: status, ts: ts, hostname: node, interval: 10, node: node).encoded()
        change.lease = lease
        return change
    }

    private func delete(_ node: String, previous: FleetChange) -> FleetChange {
        FleetChange(key: layout.heartbeat(node), value: nil, previous: previous.value, previousLease: previous.lease)
    }

    /// Another writer's heartbeat proves nothing: a key without a lease is flagged
    /// and never counts as alive.
    func testAHeartbeatWithoutALeaseIsFlaggedNotAlive() {
        XCTAssertEqual(names(fleet.apply(snapshot: [reg("a"), put("a", lease: 0)], now: 1)), [], "registered, no agent: dead, not news")
        XCTAssertEqual(fleet.state(of: "a"), .dead)
        XCTAssertEqual(fleet.node(named: "a", now: 1)?.valueError,
                       "heartbeat: written without the node's lease, so not by its agent; it does not count as alive")
        XCTAssertEqual(names(fleet.apply(changes: [put("b", lease: 0)], now: 2)), [], "never ALIVE")
        XCTAssertEqual(names(fleet.apply(changes: [put("b", lease: 7)], now: 3)), ["b ALIVE"], "an agent's put is")
        XCTAssertEqual(names(fleet.apply(changes: [put("b", lease: 0)], now: 4)), [],
                       "overwritten without a lease: no false DEAD, the state stays, flagged (its agent restores the key)")
        XCTAssertNotNil(fleet.node(named: "b", now: 4)?.valueError)
        XCTAssertEqual(fleet.nextDeadline() ?? 0, 14, accuracy: 0.01, "judged again after the grace")
        XCTAssertEqual(names(fleet.tick(now: 14.01)), ["b DEAD"], "nothing restored it: its lease no longer holds the key")
        XCTAssertEqual(names(fleet.apply(changes: [put("b", lease: 7)], now: 15)), ["b ALIVE"])
        let forged = put("b", status: "stopping", lease: 0)
        XCTAssertEqual(names(fleet.apply(changes: [forged, delete("b", previous: forged)], now: 5)), ["b DEAD"],
                       "a forged stopping mark then a delete is no clean stop")
    }

    /// LEFT only for a stopping mark under the node's own lease followed by that
    /// lease's end; anything else that removes the key is DEAD.
    func testLeftOnlyForAStoppingMarkUnderTheNodesOwnLease() {
        for (markLease, expected) in [(Int64(7), "LEFT"), (0, "DEAD"), (9, "DEAD")] {
            var fleet = FleetState(layout: layout)
            _ = fleet.apply(changes: [put("a", lease: 7)], now: 1)
            let mark = put("a", status: "stopping", lease: markLease)
            let t = fleet.apply(changes: [mark, delete("a", previous: mark)], now: 2)
            XCTAssertEqual(names(t), ["a \(expected)"], "stopping mark under lease \(markLease)")
        }
    }

    /// The same, with the mark and the delete in separate watch messages: a mark
    /// under a foreign lease is no LEFT when it arrives either.
    func testAStoppingMarkUnderAForeignLeaseIsNotLeftWhenItArrives() {
        _ = fleet.apply(changes: [put("a", lease: 7)], now: 1)
        let mark = put("a", status: "stopping", lease: 9)
        XCTAssertEqual(names(fleet.apply(changes: [mark], now: 2)), [], "not the agent's mark")
        XCTAssertNotNil(fleet.node(named: "a", now: 2)?.valueError)
        XCTAssertEqual(names(fleet.apply(changes: [delete("a", previous: mark)], now: 3)), ["a DEAD"])
        let own = put("b", status: "stopping", lease: 7)
        _ = fleet.apply(changes: [put("b", lease: 7)], now: 4)
        XCTAssertEqual(names(fleet.apply(changes: [own], now: 5)), ["b LEFT"], "its own mark: LEFT at once")
    }

    /// A registry stop mark from an earlier run (older than the last round seen)
    /// never turns a later crash into LEFT.
    func testAnOldRegistryStopMarkDoesNotTurnACrashIntoLeft() {
        let old = FleetChange(key: layout.registry("a"), value: NodeRecord(node: "a", hostname: "a", version: "0.1.0", firstStart: 1,
                                                                          lastStart: 2, stopped: true, stoppedAt: 50).encoded())
        _ = fleet.apply(changes: [old], now: 1)
        let round = put("a", ts: 100, lease: 7)
        XCTAssertEqual(names(fleet.apply(changes: [round], now: 2)), ["a ALIVE"])
        XCTAssertEqual(names(fleet.apply(changes: [delete("a", previous: round)], now: 3)), ["a DEAD"])
        XCTAssertEqual(fleet.state(of: "a"), .dead)
    }

    func testStaleAfterThreeRoundsThenAliveAgainAndDeadlinesAreExact() {
        _ = fleet.apply(changes: [hb("a", interval: 2)], now: 100)
        XCTAssertEqual(fleet.nextDeadline() ?? 0, 106, accuracy: 0.01)
        XCTAssertEqual(names(fleet.tick(now: 105)), [])
        let stale = fleet.tick(now: 106.5)
        XCTAssertEqual(names(stale), ["a STALE"])
        XCTAssertEqual(names(fleet.tick(now: 200)), [], "reported once")
        XCTAssertNil(fleet.nextDeadline(), "nothing to wake for while stale")
        let back = fleet.apply(changes: [hb("a", interval: 2)], now: 201)
        XCTAssertEqual(names(back), ["a ALIVE"])
        XCTAssertEqual(back.first?.detail, "rounds resumed")
    }

    /// The server's etcd outage of 36 s once made every node STALE: a frozen
    /// view derives nothing from missing rounds, and after it every node gets a
    /// full window of its own before it can turn stale.
    func testAFrozenViewReportsNothingAndGivesAFullWindowAfterwards() {
        _ = fleet.apply(changes: [hb("a", interval: 2), hb("b", interval: 10)], now: 100)
        fleet.freeze()
        XCTAssertNil(fleet.nextDeadline(), "nothing to wake for while blind")
        XCTAssertEqual(names(fleet.tick(now: 150)), [], "no STALE from a blind view")
        XCTAssertEqual(fleet.view(now: 150).summary, "2 nodes: 2 alive", "the view keeps every state")
        fleet.thaw(now: 160)
        XCTAssertFalse(fleet.frozen)
        XCTAssertEqual(names(fleet.tick(now: 106.5)), [], "the deadline before the outage no longer counts")
        XCTAssertEqual(names(fleet.tick(now: 165)), [], "a's full window (3 x 2 s) runs from the thaw")
        XCTAssertEqual(names(fleet.tick(now: 166.5)), ["a STALE"], "a node whose rounds do not come back is still found")
        XCTAssertEqual(fleet.view(now: 166.5)["a"]?.lastSeen, 100, "last seen is what was seen")
        XCTAssertEqual(names(fleet.tick(now: 190.5)), ["b STALE"], "b's window: 30 s from the thaw")
    }

    func st(_ node: String, _ state: FleetView.State, since: Double = 50, seen: Double? = 40) -> FleetChange {
        FleetChange(key: layout.state(node), value: NodeState(state: state, since: since, lastSeen: seen,
                                                              reason: "r", server: "old").encoded())
    }

    /// A restarted server (or a standby taking over) reads the records: what
    /// they already say is no news, what differs is reported once.
    func testStoredStatesMakeARestartSilentAndOnlyDifferencesAreReported() {
        fleet.wallOffset = 1000 // wall = mono + 1000
        let t = fleet.apply(snapshot: kvs([hb("a"), reg("a"), st("a", .alive),
                                           reg("b"), st("b", .dead, since: 1050, seen: 1040),
                                           reg("c"), st("c", .alive),
                                           hb("d"), reg("d"),
                                           reg("e"),
                                           st("lab", .dead, since: 1060, seen: 1055)]), now: 100)
        XCTAssertEqual(names(t), ["d ALIVE"], "only the node no server recorded is news at once")
        XCTAssertEqual(fleet.view(now: 100)["b"]?.since, 50, "dead since the recorded time, in the caller's clock")
        XCTAssertEqual(fleet.view(now: 100)["b"]?.lastSeen, 40)
        XCTAssertEqual(fleet.state(of: "lab"), .dead, "a lab node known only from its record stays listed")
        let (changed, unrecorded) = fleet.differences()
        XCTAssertEqual(names(changed), ["c DEAD", "d ALIVE"], "c died while no server led; d was never recorded")
        XCTAssertEqual(unrecorded, ["e"], "dead before any server recorded it: no transition, but a record")
        XCTAssertEqual(fleet.record(of: "b", server: "new")?.since, 1050)
        XCTAssertEqual(fleet.record(of: "b", server: "new")?.lastSeen, 1040)
        XCTAssertEqual(fleet.record(of: "a", server: "new")?.lastSeen, 1100, "a round received now, in wall time")
        // The leader's own write comes back on the watch: the difference is gone.
        _ = fleet.apply(changes: [st("c", .dead, since: 1100)], now: 101)
        XCTAssertEqual(names(fleet.differences().transitions), ["d ALIVE"])
        // An operator forgets the lab node: its record was all that was left.
        _ = fleet.apply(changes: [FleetChange(key: layout.state("lab"), value: nil)], now: 102)
        XCTAssertNil(fleet.state(of: "lab"))
        XCTAssertEqual(fleet.summary, "5 nodes: 2 alive, 3 dead")
    }

    func beat(_ node: String, ts: Double) -> FleetChange {
        FleetChange(key: layout.heartbeat(node), value: Heartbeat(status: "alive", ts: ts, hostname: node, interval: 10, node: node).encoded())
    }

    /// One clock rule: staleness from receive times, the node's `ts` only
    /// estimates its skew, reported once each way, never from replays.
    func testClockSkewIsReportedOnceEachWayAndNeverFromLateDeliveries() {
        fleet.measuresClockSkew = true
        fleet.wallOffset = 10_000 // wall = caller's clock + 10,000
        _ = fleet.apply(snapshot: [FleetChange](), now: 0)
        var lines: [String] = []
        // A node 120 s ahead: said at its first round.
        lines += names(fleet.apply(changes: [beat("ahead", ts: 10_010 + 120)], now: 10))
        XCTAssertEqual(fleet.record(of: "ahead", server: "s")?.clockSkew, 120)
        // A node 120 s behind: only when three rounds in a row say so.
        lines += names(fleet.apply(changes: [beat("behind", ts: 10_010 - 120)], now: 10))
        lines += names(fleet.apply(changes: [beat("behind", ts: 10_020 - 120)], now: 20))
        XCTAssertEqual(lines, ["ahead ALIVE", "ahead CLOCK_SKEW", "behind ALIVE"])
        lines += names(fleet.apply(changes: [beat("behind", ts: 10_030 - 120)], now: 30))
        XCTAssertEqual(lines.last, "behind CLOCK_SKEW")
        XCTAssertEqual(fleet.state(of: "behind"), .alive, "its own clock does not make it stale")
        // One round delivered 5 s late says nothing; the clock set right says CLOCK_OK.
        lines = names(fleet.apply(changes: [beat("fine", ts: 10_040)], now: 40))
        lines += names(fleet.apply(changes: [beat("fine", ts: 10_045)], now: 50))
        lines += names(fleet.apply(changes: [beat("behind", ts: 10_060)], now: 60))
        XCTAssertEqual(lines, ["fine ALIVE", "behind CLOCK_OK"])
        // Rounds replayed right after an outage are old: not sampled.
        fleet.freeze()
        fleet.thaw(now: 100)
        XCTAssertEqual(names(fleet.apply(changes: [beat("fine", ts: 10_050), beat("fine", ts: 10_060),
                                                   beat("fine", ts: 10_070)], now: 100.1)), [])
    }

    func testThresholdWarningsHaveHysteresis() {
        var all: [String] = []
        for (i, cpu) in [10.0, 95, 97, 88, 86, 84, 92].enumerated() {
            all += names(fleet.apply(changes: [hb("a", cpu: cpu)], now: Double(i)))
        }
        XCTAssertEqual(all, ["a ALIVE", "a CPU_HIGH", "a CPU_OK", "a CPU_HIGH"])
    }

    func testForgottenNodeDisappearsAndBadValuesStillCountAsAlive() {
        _ = fleet.apply(snapshot: kvs([reg("gone")]), now: 1)
        XCTAssertEqual(fleet.state(of: "gone"), .dead)
        _ = fleet.apply(changes: [FleetChange(key: layout.registry("gone"), value: nil)], now: 2)
        XCTAssertNil(fleet.state(of: "gone"))
        XCTAssertEqual(fleet.summary, "0 nodes")
        let junk = fleet.apply(changes: [FleetChange(key: layout.heartbeat("j"), value: Array("{{".utf8))], now: 3)
        XCTAssertEqual(names(junk), ["j ALIVE"])
        XCTAssertNotNil(fleet.view(now: 3)["j"]?.valueError)
        XCTAssertEqual(fleet.summary, "1 node: 1 alive")
    }

    func testAResyncAfterAnOutageReportsOnlyWhatChanged() {
        _ = fleet.apply(snapshot: kvs([hb("a"), reg("a"), hb("b"), reg("b")]), now: 1)
        let t = fleet.apply(snapshot: kvs([hb("a"), reg("a"), reg("b")]), now: 50)
        XCTAssertEqual(names(t), ["b DEAD"])
    }

    /// A snapshot as a range read delivers it.
    private func kvs(_ changes: [FleetChange]) -> [(key: String, value: [UInt8])] {
        changes.map { ($0.key, $0.value ?? []) }
    }

    /// Lab-style heartbeats (no registry, bare values), as `monitorctl watch`
    /// and the server both see them through this one tracker.
    func testBareHeartbeatsGiveAliveLeftAndDeadOnceEach() {
        var fleet = FleetState(layout: layout)
        func kv(_ node: String, _ status: String = "alive") -> FleetChange {
            FleetChange(key: layout.heartbeat(node), value: Array(#"{"status":"\#(status)","ts":1}"#.utf8))
        }
        XCTAssertEqual(names(fleet.apply(snapshot: kvs([kv("a"), kv("b"), FleetChange(key: "/x", value: [])]), now: 1)),
                       ["a ALIVE", "b ALIVE"])
        XCTAssertEqual(names(fleet.apply(changes: [kv("a")], now: 2)), [], "a round, not a transition")
        XCTAssertEqual(names(fleet.apply(changes: [kv("a", "stopping"), FleetChange(key: layout.heartbeat("a"), value: nil)], now: 3)),
                       ["a LEFT"])
        // prev_kv wins over our copy.
        XCTAssertEqual(names(fleet.apply(changes: [FleetChange(key: layout.heartbeat("b"), value: nil,
                                                               previous: kv("b", "stopping").value)], now: 4)), ["b LEFT"])
        XCTAssertEqual(names(fleet.apply(changes: [kv("c")], now: 5)), ["c ALIVE"])
        XCTAssertEqual(names(fleet.apply(changes: [FleetChange(key: layout.heartbeat("zz"), value: nil)], now: 6)), [],
                       "never seen: nothing to report")
        // A re-sync after compaction: c went away unseen (DEAD), d appeared.
        XCTAssertEqual(names(fleet.apply(snapshot: kvs([kv("d")]), now: 7)), ["c DEAD", "d ALIVE"])
    }

    /// Deadlines come from a queue: a put moves a node's deadline, the outdated
    /// one costs one empty tick, and only due nodes are re-evaluated.
    func testDeadlinesFollowTheLatestRoundAndOutdatedOnesAreSkipped() {
        _ = fleet.apply(changes: [hb("a", interval: 2), hb("b", interval: 10)], now: 0)
        XCTAssertEqual(fleet.nextDeadline(), 6.001, "a: 3 rounds of 2 s")
        _ = fleet.apply(changes: [hb("a", interval: 2)], now: 5)
        XCTAssertEqual(fleet.nextDeadline(), 6.001, "the outdated item is still first")
        XCTAssertEqual(names(fleet.tick(now: 6.001)), [], "a beat at 5: not stale")
        XCTAssertEqual(fleet.nextDeadline(), 11.001, "a's real deadline now")
        XCTAssertEqual(names(fleet.tick(now: 11.001)), ["a STALE"])
        XCTAssertEqual(fleet.nextDeadline(), 30.001, "b's; a has none while stale")
        fleet.rules = FleetView.Rules(staleAfterRounds: 2)
        XCTAssertEqual(fleet.nextDeadline(), 20.001, "new rules reschedule every alive node")
    }

    /// 10,000 nodes, three rounds each: the work per event does not grow with
    /// the fleet (the queue holds a few items per node, not one per round ever).
    func testTenThousandNodesCostLittlePerEvent() {
        let names = (0..<10_000).map { "n\($0)" }
        let beats = names.map { hb($0, interval: 30) }
        let start = ContinuousClock.now
        for round in 0..<3 {
            for (i, beat) in beats.enumerated() {
                _ = fleet.apply(changes: [beat], now: Double(round * 30) + Double(i) * 0.003)
                if let deadline = fleet.nextDeadline(), deadline <= Double(round * 30) { _ = fleet.tick(now: deadline) }
            }
        }
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(fleet.summary, "10000 nodes: 10000 alive")
        XCTAssertLessThanOrEqual(fleet.scheduledDeadlines, 3 * 10_000, "outdated items are bounded")
        // Generous: about 1.3 s in a debug build here (42 µs per event); the old
        // scan of every node per event made this grow with the square of the fleet.
        XCTAssertLessThan(elapsed, .seconds(20), "30,000 events took \(elapsed)")
        let stale = fleet.tick(now: 200)
        XCTAssertEqual(stale.count, 10_000, "every node stale once nothing came for 3 rounds")
        XCTAssertEqual(fleet.scheduledDeadlines, 0)
    }
}
