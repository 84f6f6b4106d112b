import Concurrency
import EtcdClient
import FleetModel
@testable import MonitorAgent
import XCTest

/// The agent's decisions, driven in-process with a fake clock in milliseconds:
/// config merge, round schedule, session states, STATUS, log-once.
final class AgentStateTests: XCTestCase {
    private let layout = KeyLayout(prefix: "/m")
    private let lease = Lease(id: 0x1a2b, ttl: 5)

    private func ms(_ value: UInt64) -> MonotonicInstant { MonotonicInstant(nanoseconds: value * 1_000_000) }

    private func makeState() -> AgentState {
        AgentState(node: "n1", layout: layout, endpoints: ["http://127.0.0.1:2379"], now: ms(0))
    }

    private func config(_ source: ConfigSource, _ json: String?, initial: Bool = false, gen: Int = 1) -> AgentMessage {
        let key = source == .node ? "/m/config/n1" : "/m/config/default"
        let value = json.map { Array($0.utf8) }
        return .config(generation: gen, source, initial ? .read(key: key, value: value, revision: 7)
                                                        : .changed(key: key, value: value, revision: 8))
    }

    /// A lease granted and the name found free: the agent registers.
    @discardableResult
    private func grant(_ state: inout AgentState, _ lease: Lease, generation: Int = 1, now: MonotonicInstant) -> [AgentEffect] {
        let asked = state.handle(.session(generation: generation, .granted(lease)), now: now)
        XCTAssertEqual(asked, [.claimName], "a new lease first asks who holds the name")
        return state.nameClaimed(.free, now: now)
    }

    private func logs(_ effects: [AgentEffect]) -> [AgentLogLine] {
        effects.compactMap { if case let .log(line) = $0 { return line } else { return nil } }
    }

    private func events(_ effects: [AgentEffect]) -> [String] {
        logs(effects).compactMap { $0.metadata["event"] }
    }

    func testNodeKeyOverridesTheDefaultFieldByFieldAndDeletionFallsBack() {
        var state = makeState()
        XCTAssertEqual(state.config, .default)
        let first = state.handle(config(.fleetDefault, #"{"interval": 30, "metrics": ["cpu"]}"#), now: ms(10))
        XCTAssertEqual(state.config, AgentConfig(interval: 30, metrics: ["cpu"]))
        XCTAssertEqual(events(first), ["CONFIG_APPLIED"])
        XCTAssertTrue(first.contains(.prime([.cpu])))
        XCTAssertTrue(first.contains(.putHeartbeat), "the new interval is visible at once")
        _ = state.handle(config(.node, #"{"interval": 2}"#), now: ms(20))
        XCTAssertEqual(state.config, AgentConfig(interval: 2, metrics: ["cpu"]))
        let back = state.handle(config(.node, nil), now: ms(30))
        XCTAssertEqual(state.config, AgentConfig(interval: 30, metrics: ["cpu"]))
        XCTAssertEqual(events(back), ["CONFIG_DELETED"])
        XCTAssertEqual(logs(back).first?.message,
                       "config key /m/config/n1 deleted, falling back to the default: interval 30s, metrics [cpu]")
        XCTAssertEqual(state.handle(config(.node, nil), now: ms(40)).filter { $0 == .putHeartbeat }, [],
                       "no change, no extra put")
    }

    func testARejectionKeepsTheLastGoodValueIsPublishedOnceAndClearedByTheNextGoodValue() {
        var state = makeState()
        grant(&state, lease, now: ms(5))
        _ = state.handle(config(.node, #"{"interval": 5}"#), now: ms(10))
        XCTAssertEqual(state.roundDue(now: ms(1000)), [.collect], "a new round: a new extra put may show a change")
        let rejected = state.handle(config(.node, #"{"interval": "fast"}"#), now: ms(1020))
        XCTAssertEqual(state.config.interval, 5)
        XCTAssertEqual(state.configError, #"/m/config/n1: "interval": expected a number of seconds from 1 to 86400, got "fast""#)
        XCTAssertEqual(events(rejected), ["CONFIG_REJECTED"])
        XCTAssertEqual(rejected.last, .putHeartbeat, "the operator sees the rejection in the central view at once")
        XCTAssertEqual(state.heartbeat(status: "alive", wallTime: 1, hostname: "h").configError, state.configError)
        XCTAssertEqual(state.handle(config(.node, #"{"interval": "fast"}"#), now: ms(1025)).filter { $0 == .putHeartbeat }, [],
                       "the same error is published once")
        XCTAssertTrue(state.statusLine.hasSuffix(", config rejected (see log)"), state.statusLine)
        _ = state.handle(config(.fleetDefault, "[1]"), now: ms(1030))
        XCTAssertEqual(state.configError?.components(separatedBy: "; ").count, 2)
        _ = state.handle(config(.node, #"{"interval": 6}"#), now: ms(1040))
        XCTAssertEqual(state.configError, #"/m/config/default: expected a JSON object like {"interval": 10, "metrics": ["cpu"]}, got "[1]""#)
        XCTAssertEqual(state.config.interval, 6)
    }

    /// 200 changes within one round: the latest value is in force, three lines are
    /// logged and one extra put is made; the round logs how many were coalesced,
    /// keeps its place and publishes the result.
    func testAConfigStormCoalesces() {
        var state = makeState()
        grant(&state, lease, now: ms(5))
        _ = state.handle(config(.node, #"{"interval": 2}"#, initial: true), now: ms(10))
        XCTAssertEqual(state.roundDue(now: ms(1000)), [.collect])
        var effects: [AgentEffect] = []
        for i in 0..<200 {
            effects += state.handle(config(.node, i == 150 ? #"{"interval": "x"}"# : "{\"interval\": \(2 + Double(i % 7 + 1) / 10)}"),
                                    now: ms(1000 + UInt64(i) * 5))
        }
        XCTAssertEqual(state.config.interval, 2.4, "the latest value wins")
        XCTAssertEqual(logs(effects).count, 3, "the first three changes of the round are logged")
        XCTAssertEqual(effects.filter { $0 == .putHeartbeat }.count, 1, "one extra put per round")
        XCTAssertNil(state.configError, "the rejection at 150 was cleared by later good values")
        let round = state.roundDue(now: state.nextRound)
        XCTAssertEqual(round.last, .collect)
        XCTAssertEqual(logs(round).map(\.metadata), [["event": "CONFIG_COALESCED", "changes": "197"]])
        XCTAssertTrue(logs(round).first?.message.hasPrefix("197 more config changes since the last one logged, coalesced; in force: interval 2.4s") == true,
                      logs(round).first?.message ?? "")
        XCTAssertEqual(state.roundDue(now: state.nextRound), [.collect], "nothing more to say")
    }

    /// Its own puts are known by revision; any later change of the key is another
    /// writer's and is put back, logged once per episode.
    func testAnotherWritersChangeOfTheHeartbeatKeyIsRestoredAndLoggedOnce() {
        var state = makeState()
        let key: (HeartbeatKeyEvent) -> AgentMessage = { .heartbeatKey(generation: 1, $0) }
        XCTAssertEqual(state.handle(key(.deleted(revision: 5)), now: ms(1)), [], "no lease yet: nothing to defend")
        grant(&state, lease, now: ms(5))
        _ = state.heartbeatPutSucceeded(revision: 10)
        XCTAssertEqual(state.handle(key(.put(revision: 10, lease: lease.id, machineID: nil)), now: ms(6)), [], "our own put")
        XCTAssertEqual(state.handle(key(.put(revision: 9, lease: 0, machineID: nil)), now: ms(6)), [], "older than our last put: already overwritten")
        XCTAssertEqual(state.handle(key(.deleted(revision: 11)), now: ms(7)), [.restoreHeartbeat(what: "deleted")])
        XCTAssertEqual(state.handle(key(.put(revision: 12, lease: 0, machineID: nil)), now: ms(8)), [.restoreHeartbeat(what: "overwritten without a lease")])
        XCTAssertEqual(state.handle(key(.put(revision: 13, lease: 0x99, machineID: nil)), now: ms(8)), [.restoreHeartbeat(what: "overwritten under lease 99")])
        XCTAssertEqual(events(state.heartbeatRestored(what: "deleted")), ["HEARTBEAT_TAMPERED"])
        XCTAssertEqual(state.heartbeatRestored(what: "overwritten without a lease"), [], "once per episode")
        _ = state.roundDue(now: ms(1000))   // the round of the tampering
        _ = state.roundDue(now: state.nextRound)   // a quiet round ends the episode
        XCTAssertEqual(events(state.heartbeatRestored(what: "deleted")), ["HEARTBEAT_TAMPERED"], "a new episode is logged")
        XCTAssertEqual(state.handle(.heartbeatKey(generation: 2, .deleted(revision: 99)), now: ms(9)), [], "another generation's")
    }

    /// Two machines with one node name (cloned VMs): the second stands back,
    /// says so once, writes nothing, and asks again every TTL.
    func testANameHeldByAnotherMachineIsNotTakenOverAndCheckedAgainEveryTTL() {
        var state = makeState()
        state.machineID = "aaaa"
        XCTAssertEqual(state.handle(.session(generation: 1, .granted(lease)), now: ms(1)), [.claimName])
        XCTAssertFalse(state.holdsName, "nothing is written before the name is known to be free")
        let held = state.nameClaimed(.heldBy(machineID: "bbbb", lease: 0x77), now: ms(2))
        XCTAssertEqual(events(held), ["NAME_CONFLICT"])
        XCTAssertTrue(logs(held).first?.message.contains("held by machine bbbb (lease 77") ?? false)
        XCTAssertEqual(state.statusLine, "node name n1 is held by machine bbbb; waiting, writing nothing")
        XCTAssertEqual(state.nextDeadline, ms(1000), "the first round still comes (its put is skipped)")
        XCTAssertEqual(state.claimDue(now: ms(5001)), [], "asked again a TTL (5 s) later")
        XCTAssertEqual(state.claimDue(now: ms(5002)), [.claimName])
        XCTAssertEqual(state.nameClaimed(.heldBy(machineID: "bbbb", lease: 0x77), now: ms(5003)), [], "said once")
        let free = state.nameClaimed(.free, now: ms(10_004))
        XCTAssertEqual(events(free), ["REGISTERED"])
        XCTAssertTrue(free.contains(.putHeartbeat))
        XCTAssertTrue(state.holdsName)
        // Both started at once and the other's put came later: stand back, do not fight.
        _ = state.heartbeatPutSucceeded(revision: 20)
        let taken = state.handle(.heartbeatKey(generation: 1, .put(revision: 21, lease: 0x88, machineID: "cccc")), now: ms(10_100))
        XCTAssertEqual(events(taken), ["NAME_CONFLICT"])
        XCTAssertFalse(state.holdsName)
        // The same machine's previous lease (a restart), or an unknown writer: restored as tampering.
        _ = state.nameClaimed(.free, now: ms(15_200))
        XCTAssertEqual(state.handle(.heartbeatKey(generation: 1, .put(revision: 30, lease: 0x99, machineID: "aaaa")), now: ms(15_300)),
                       [.restoreHeartbeat(what: "overwritten under lease 99")])
    }

    func testTheFirstRoundComesOneSecondAfterStartAlsoWhenANodeConfigExistsAtStart() {
        var state = makeState()
        _ = state.handle(config(.node, #"{"interval": 30}"#, initial: true), now: ms(50))
        XCTAssertEqual(state.nextRound, ms(1000))
        XCTAssertEqual(state.roundDue(now: ms(999)), [])
        XCTAssertEqual(state.roundDue(now: ms(1000)), [.collect])
        XCTAssertEqual(state.nextRound, ms(31_000))
    }

    func testAnIntervalChangeKeepsTheRhythmOfTheLastRound() {
        var state = makeState()
        XCTAssertEqual(state.roundDue(now: ms(1000)), [.collect])
        XCTAssertEqual(state.nextRound, ms(11_000))
        _ = state.handle(config(.node, #"{"interval": 60}"#), now: ms(5000))
        XCTAssertEqual(state.nextRound, ms(61_000), "longer: one new interval after the last round")
        _ = state.handle(config(.node, #"{"interval": 2}"#), now: ms(5000))
        XCTAssertEqual(state.nextRound, ms(5000), "shorter and already overdue: now")
    }

    func testMessagesOfAnOldRegistrationAreDropped() {
        var state = makeState()
        grant(&state, lease, now: ms(1))
        let generation = state.reregister(node: "n1", layout: layout, endpoints: ["http://127.0.0.1:2379"])
        XCTAssertEqual(generation, 2)
        XCTAssertEqual(state.session, .connecting)
        XCTAssertEqual(state.handle(.session(generation: 1, .lost(lease)), now: ms(2)), [])
        XCTAssertEqual(state.handle(config(.node, #"{"interval": 3}"#, gen: 1), now: ms(3)), [])
        XCTAssertEqual(state.config, .default)
        let newLease = Lease(id: 0xff, ttl: 5)
        let effects = grant(&state, newLease, generation: 2, now: ms(4))
        XCTAssertEqual(state.lease, newLease)
        XCTAssertEqual(logs(effects).first?.message, "re-registered as node n1: lease ff (TTL 5s), heartbeat /m/heartbeat/n1")
    }

    func testSessionStatesAreLoggedOnceEachAndALostLeaseIsCalledThat() {
        var state = makeState()
        XCTAssertEqual(state.statusLine, "connecting to etcd (http://127.0.0.1:2379)")
        let granted = grant(&state, lease, now: ms(1))
        XCTAssertEqual(events(granted), ["REGISTERED"])
        XCTAssertEqual(granted.filter { if case .log = $0 { return false } else { return true } },
                       [.putHeartbeat, .writeRegistry, .revokeReplacedLease])
        XCTAssertEqual(state.statusLine, "lease 1a2b alive, interval 10s")
        state.registryWasWritten()

        let down = AgentMessage.session(generation: 1, .unreachable(reason: "connection refused", retryIn: 1.7))
        XCTAssertEqual(events(state.handle(down, now: ms(2))), ["ETCD_UNREACHABLE"])
        XCTAssertEqual(events(state.handle(down, now: ms(3))), [], "once per reason, not per retry")
        XCTAssertEqual(state.statusLine, "etcd unreachable (connection refused), retrying in 2s")
        XCTAssertEqual(state.lease, lease, "the lease may outlive the outage: puts keep using it")

        let lost = state.handle(.session(generation: 1, .lost(lease)), now: ms(4))
        XCTAssertEqual(events(lost), ["LEASE_LOST"])
        XCTAssertEqual(logs(lost).first?.message, "lease 1a2b lost (expired or revoked); registering again")
        XCTAssertEqual(state.statusLine, "lease 1a2b lost, registering again")
        XCTAssertNil(state.lease)

        let again = grant(&state, Lease(id: 0x2c, ttl: 5), now: ms(5))
        XCTAssertFalse(again.contains(.writeRegistry), "the registry is written once per start")
        XCTAssertTrue(logs(again).first?.message.hasPrefix("re-registered as node n1: lease 2c") ?? false)

        _ = state.handle(down, now: ms(6))
        let renewed = state.handle(.session(generation: 1, .renewed(Lease(id: 0x2c, ttl: 5))), now: ms(7))
        XCTAssertEqual(events(renewed), ["ETCD_REACHABLE"])
        XCTAssertTrue(renewed.contains(.putHeartbeat))
        XCTAssertEqual(state.handle(.session(generation: 1, .renewed(Lease(id: 0x2c, ttl: 5))), now: ms(8)), [])
    }

    func testAFailingCollectorIsLoggedWhenItStartsFailingAndWhenItRecoversAndCounted() {
        var state = makeState()
        let failing = MetricsSample(values: [.cpu: 5], errors: [.diskRead: "cannot read /proc/diskstats"])
        XCTAssertEqual(events(state.roundCollected(failing)), ["COLLECTOR_FAILED"])
        XCTAssertEqual(events(state.roundCollected(failing)), [], "not once per round")
        XCTAssertEqual(state.collectorFailures[.diskRead], 2)
        XCTAssertTrue(state.statusLine.hasSuffix("collector failing: disk read"), state.statusLine)
        let recovered = state.roundCollected(MetricsSample(values: [.cpu: 5, .diskRead: 100]))
        XCTAssertEqual(events(recovered), ["COLLECTOR_RECOVERED"])
        XCTAssertEqual(logs(recovered).first?.message, "collector disk read recovered after 2 failed rounds")
        XCTAssertEqual(recovered.last, .putHeartbeat)
        XCTAssertEqual(state.seq, 3)
    }

    func testTheHeartbeatCarriesOnlyTheMetricsOfTheConfigInForce() {
        var state = makeState()
        _ = state.roundCollected(MetricsSample(values: [.cpu: 12.5, .memory: 40, .netIn: 9], memoryTotalBytes: 8,
                                               memoryAvailableBytes: 4))
        _ = state.handle(config(.node, #"{"metrics": ["cpu", "bogus"]}"#), now: ms(10))
        let beat = state.heartbeat(status: "alive", wallTime: 1_800_000_000, hostname: "host1")
        XCTAssertEqual(beat.metrics, ["cpu": 12.5])
        XCTAssertEqual(beat.node, "n1")
        XCTAssertEqual(beat.seq, 1)
        XCTAssertEqual(beat.interval, 10)
        XCTAssertEqual(beat.ts, 1_800_000_000)
        XCTAssertEqual(beat.memoryTotalBytes, 8)
    }

    func testUnknownMetricNamesAreWarnedOncePerList() {
        var state = makeState()
        let first = state.handle(config(.node, #"{"metrics": ["cpu", "gpu"]}"#), now: ms(1))
        XCTAssertEqual(events(first), ["CONFIG_APPLIED", "CONFIG_UNKNOWN_METRIC"])
        let same = state.handle(config(.node, #"{"metrics": ["gpu", "cpu"]}"#), now: ms(2))
        XCTAssertEqual(events(same), ["CONFIG_APPLIED"], "the list changed, the unknown names did not: no second warning")
    }

    func testAConfigWatchInterruptionIsLoggedOnceUntilItReconnects() {
        var state = makeState()
        let down = AgentMessage.config(generation: 1, .node, .interrupted(key: "/m/config/n1", reason: "connection refused", retryIn: 0.25))
        let first = state.handle(down, now: ms(1))
        XCTAssertEqual(logs(first).first?.message, "config watch on /m/config/n1 interrupted (connection refused), resuming in 0.3s")
        XCTAssertEqual(state.handle(down, now: ms(2)), [])
        let up = AgentMessage.config(generation: 1, .node, .connected(key: "/m/config/n1", endpoint: "http://e"))
        XCTAssertEqual(logs(state.handle(up, now: ms(3))).map(\.level), [.debug])
        XCTAssertEqual(state.handle(up, now: ms(4)), [])
        XCTAssertEqual(events(state.handle(down, now: ms(5))), ["WATCH_INTERRUPTED"])
    }
}
