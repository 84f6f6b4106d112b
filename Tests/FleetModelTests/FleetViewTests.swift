@testable import FleetModel
import MonitorSettings
import XCTest

/// The fleet view's rules, one table row per situation.
final class FleetViewTests: XCTestCase {
    let now = 1_800_000_000.0

    struct Case {
        let name: String
        var heartbeat: String?
        var registry: String?
        var lastSeen: Double?
        var rules = FleetView.Rules()
        let state: FleetView.State
        let since: Double?
        let seen: Double?
        var valueError: String?
    }

    func registry(lastStart: Double, stopped: Bool = false, stoppedAt: Double? = nil) -> String {
        String(decoding: NodeRecord(node: "n", hostname: "n.lan", version: "0.1.0", firstStart: lastStart - 1000,
                                    lastStart: lastStart, stopped: stopped, stoppedAt: stoppedAt).encoded(),
               as: UTF8.self)
    }

    func testStateTable() {
        let t = now
        let cases: [Case] = [
            Case(name: "alive, registered: since its last start",
                 heartbeat: #"{"status":"alive","ts":\#(t - 5),"interval":10}"#, registry: registry(lastStart: t - 600),
                 state: .alive, since: t - 600, seen: t - 5),
            Case(name: "exactly 3 rounds old is still alive",
                 heartbeat: #"{"status":"alive","ts":\#(t - 30),"interval":10}"#, registry: registry(lastStart: t - 600),
                 state: .alive, since: t - 600, seen: t - 30),
            Case(name: "just over 3 rounds: stale since the threshold was crossed",
                 heartbeat: #"{"status":"alive","ts":\#(t - 31),"interval":10}"#, registry: registry(lastStart: t - 600),
                 state: .stale, since: t - 1, seen: t - 31),
            Case(name: "short interval goes stale sooner",
                 heartbeat: #"{"status":"alive","ts":\#(t - 7),"interval":2}"#,
                 state: .stale, since: t - 1, seen: t - 7),
            Case(name: "StaleAfterRounds=5 tolerates 31 s at 10 s",
                 heartbeat: #"{"status":"alive","ts":\#(t - 31),"interval":10}"#,
                 rules: FleetView.Rules(staleAfterRounds: 5), state: .alive, since: nil, seen: t - 31),
            Case(name: "lab bare heartbeat, no registry: alive",
                 heartbeat: #"{"status":"alive","ts":\#(t - 5),"hostname":"lab1"}"#,
                 state: .alive, since: nil, seen: t - 5),
            Case(name: "lab bare heartbeat judged with the default 10 s interval",
                 heartbeat: #"{"status":"alive","ts":\#(t - 31),"hostname":"lab1"}"#,
                 state: .stale, since: t - 1, seen: t - 31),
            Case(name: "lab heartbeat with an integer ts",
                 heartbeat: #"{"status":"alive","ts":\#(Int(t) - 2),"hostname":"lab1"}"#,
                 state: .alive, since: nil, seen: t - 2),
            Case(name: "stopping mark: stopped since its ts",
                 heartbeat: #"{"status":"stopping","ts":\#(t - 1),"interval":10}"#, registry: registry(lastStart: t - 600),
                 state: .stopped, since: t - 1, seen: t - 1),
            Case(name: "old stopping mark is stopped, never stale",
                 heartbeat: #"{"status":"stopping","ts":\#(t - 500),"interval":10}"#,
                 state: .stopped, since: t - 500, seen: t - 500),
            Case(name: "registry stopped, no heartbeat: stopped since stopped_at",
                 registry: registry(lastStart: t - 600, stopped: true, stoppedAt: t - 60),
                 state: .stopped, since: t - 60, seen: t - 60),
            Case(name: "registry stopped without stopped_at",
                 registry: #"{"node":"n","stopped":true}"#, state: .stopped, since: nil, seen: nil),
            Case(name: "registry not stopped, no heartbeat: dead, since unknown",
                 registry: registry(lastStart: t - 600), state: .dead, since: nil, seen: nil),
            Case(name: "dead with the caller's last-seen time",
                 registry: registry(lastStart: t - 600), lastSeen: t - 20, state: .dead, since: t - 20, seen: t - 20),
            Case(name: "known only to the caller: dead",
                 lastSeen: t - 20, state: .dead, since: t - 20, seen: t - 20),
            Case(name: "caller's receive time overrides ts for staleness",
                 heartbeat: #"{"status":"alive","ts":\#(t),"interval":10}"#, lastSeen: t - 100,
                 state: .stale, since: t - 70, seen: t - 100),
            Case(name: "caller's receive time keeps a skewed agent alive",
                 heartbeat: #"{"status":"alive","ts":\#(t - 1000),"interval":10}"#, lastSeen: t - 1,
                 state: .alive, since: nil, seen: t - 1),
            Case(name: "agent clock ahead: alive",
                 heartbeat: #"{"status":"alive","ts":\#(t + 50),"interval":10}"#,
                 state: .alive, since: nil, seen: t + 50),
            Case(name: "heartbeat without ts: alive, last seen unknown",
                 heartbeat: #"{"status":"alive","interval":10}"#, state: .alive, since: nil, seen: nil),
            Case(name: "unreadable heartbeat: the lease proves it alive",
                 heartbeat: "garbage", registry: registry(lastStart: t - 600),
                 state: .alive, since: t - 600, seen: nil, valueError: #"heartbeat: not a JSON object ("garbage")"#),
            Case(name: "heartbeat without status is unreadable",
                 heartbeat: #"{"ts":1}"#, state: .alive, since: nil, seen: nil,
                 valueError: #"heartbeat: missing "status" (expected "alive" or "stopping")"#),
            Case(name: "unreadable registry, no heartbeat: dead",
                 registry: "[1,2]", state: .dead, since: nil, seen: nil,
                 valueError: "registry: not a JSON object (\"[1,2]\"); expected {\"node\": ..., \"last_start\": <unix seconds>, \"stopped\": true|false, ...}"),
            Case(name: "unreadable registry, live heartbeat: alive",
                 heartbeat: #"{"status":"alive","ts":\#(t - 1)}"#, registry: "{", state: .alive, since: nil, seen: t - 1,
                 valueError: "registry: not a JSON object (\"{\"); expected {\"node\": ..., \"last_start\": <unix seconds>, \"stopped\": true|false, ...}"),
        ]
        for c in cases {
            let node = FleetView.node(
                name: "n", heartbeat: c.heartbeat.map { FleetView.HeartbeatInput(value: Array($0.utf8)) },
                registry: c.registry.map { FleetView.RegistryInput(value: Array($0.utf8)) },
                now: now, rules: c.rules, lastSeen: c.lastSeen)
            XCTAssertEqual(node.state, c.state, c.name)
            XCTAssertEqual(node.since, c.since, c.name)
            XCTAssertEqual(node.lastSeen, c.seen, c.name)
            XCTAssertEqual(node.valueError, c.valueError, c.name)
            XCTAssertEqual(node.hasHeartbeat, c.heartbeat != nil, c.name)
            XCTAssertEqual(node.isRegistered, c.registry != nil, c.name)
            XCTAssertEqual(node.needsAttention, c.state == .dead || c.state == .stale, c.name)
        }
    }

    func testFieldsComeFromTheHeartbeatThenTheRegistry() {
        var beat = Heartbeat(ts: now - 2, hostname: "w1.lan", interval: 2, node: "w1", version: "0.2.0", seq: 7,
                             metrics: ["cpu": 12.5, "memory": 40, "disk read": 1024], configError: "bad interval")
        beat.memoryTotalBytes = 16_000_000_000
        beat.memoryAvailableBytes = 9_600_000_000
        let record = NodeRecord(node: "w1", hostname: "old.lan", version: "0.1.0", firstStart: 1, lastStart: 2)
        let node = FleetView.node(name: "w1", heartbeat: .init(value: beat.encoded()),
                                  registry: .init(record: record), now: now)
        XCTAssertEqual(node, FleetView.Node(
            name: "w1", state: .alive, since: 2, lastSeen: now - 2, interval: 2,
            metrics: ["cpu": 12.5, "memory": 40, "disk read": 1024], memoryTotalBytes: 16_000_000_000,
            memoryAvailableBytes: 9_600_000_000, configError: "bad interval", valueError: nil,
            hostname: "w1.lan", version: "0.2.0", hasHeartbeat: true, isRegistered: true))

        let dead = FleetView.node(name: "w1", heartbeat: nil, registry: .init(record: record), now: now)
        XCTAssertEqual(dead.hostname, "old.lan")
        XCTAssertEqual(dead.version, "0.1.0")
        XCTAssertEqual(dead.metrics, [:])
        XCTAssertNil(dead.interval)
    }

    func testViewFromKeyValuesIsSortedAndSummarised() {
        let layout = KeyLayout(prefix: "/monitor")
        let hb = { (ts: Double) in Array(#"{"status":"alive","ts":\#(ts),"interval":10}"#.utf8) }
        let heartbeats = [
            (key: "/monitor/heartbeat/web2", value: hb(now - 1)),
            (key: "/monitor/heartbeat/db1", value: hb(now - 100)),
            (key: "/monitor/heartbeat/", value: hb(now)),          // empty name: ignored
            (key: "/other/heartbeat/x", value: hb(now)),           // outside the prefix
        ]
        let registry = [
            (key: "/monitor/nodes/web2", value: NodeRecord(node: "web2", hostname: "", version: "",
                                                                   firstStart: 1, lastStart: now - 60).encoded()),
            (key: "/monitor/nodes/app1", value: NodeRecord(node: "app1", hostname: "", version: "",
                                                                   firstStart: 1, lastStart: 1).encoded()),
            (key: "/monitor/nodes/old", value: NodeRecord(node: "old", hostname: "", version: "", firstStart: 1,
                                                                  lastStart: 1, stopped: true, stoppedAt: 5).encoded()),
        ]
        let view = FleetView(heartbeatKVs: heartbeats, registryKVs: registry, layout: layout, now: now)
        XCTAssertEqual(view.nodes.map(\.name), ["app1", "db1", "old", "web2"])
        XCTAssertEqual(view.nodes.map(\.state), [.dead, .stale, .stopped, .alive])
        XCTAssertEqual(view.summary, "4 nodes: 1 alive, 1 stale, 1 stopped, 1 dead")
        XCTAssertTrue(view.needsAttention)
        XCTAssertEqual(view["web2"]?.since, now - 60)
        XCTAssertNil(view["nobody"])
        XCTAssertEqual(view.now, now)
    }

    func testViewOfPrecomputedNodesIsSorted() {
        let view = FleetView(nodes: [FleetView.Node(name: "b", state: .dead), FleetView.Node(name: "a", state: .alive)],
                             now: now)
        XCTAssertEqual(view.nodes.map(\.name), ["a", "b"])
        XCTAssertEqual(view.summary, "2 nodes: 1 alive, 1 dead")
    }

    func testSummaryWording() {
        func view(_ states: [String: String]) -> FleetView {
            var heartbeats: [String: FleetView.HeartbeatInput] = [:]
            var registry: [String: FleetView.RegistryInput] = [:]
            for (name, state) in states {
                switch state {
                case "alive": heartbeats[name] = .init(value: Array(#"{"status":"alive","ts":\#(now)}"#.utf8))
                default: registry[name] = .init(value: Array(#"{"node":"\#(name)"}"#.utf8))
                }
            }
            return FleetView(heartbeats: heartbeats, registry: registry, now: now)
        }
        XCTAssertEqual(view([:]).summary, "0 nodes")
        XCTAssertFalse(view([:]).needsAttention)
        XCTAssertEqual(view(["a": "alive"]).summary, "1 node: 1 alive")
        XCTAssertFalse(view(["a": "alive"]).needsAttention)
        XCTAssertEqual(view(["a": "alive", "b": "alive", "c": "dead"]).summary, "3 nodes: 2 alive, 1 dead")
    }

    func testRulesFromSettings() {
        var server = ServerSettings()
        server.staleAfterRounds = 7
        let rules = FleetView.Rules(staleAfterRounds: server.staleAfterRounds)
        XCTAssertEqual(rules, FleetView.Rules(staleAfterRounds: 7, defaultInterval: 10))
        XCTAssertEqual(rules.staleAfter(interval: 2), 14)
        XCTAssertEqual(rules.staleAfter(interval: nil), 70)
        XCTAssertEqual(rules.staleAfter(interval: 0), 70, "a nonsensical interval falls back to the default")
        XCTAssertEqual(FleetView.Rules().staleAfterRounds, ServerSettings().staleAfterRounds)
    }
}
