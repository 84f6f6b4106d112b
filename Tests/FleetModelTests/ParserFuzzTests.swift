@testable import FleetModel
import Foundation
import XCTest

/// Deterministic pseudo-random source (SplitMix64), so a failing input can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random and mutated inputs for every parser that reads data from etcd: none may
/// crash, and each either parses or throws its own typed error.
final class ParserFuzzTests: XCTestCase {
    static let seeds: [[UInt8]] = [
        #"{"status":"alive","ts":1700000000.5,"hostname":"n1","interval":10,"metrics":{"cpu":12.5,"memory":41}}"#,
        #"{"status":"stopping","ts":1,"hostname":"x","seq":99999999999999999999,"config_error":"bad"}"#,
        #"{"interval": 10, "metrics": ["cpu","memory","disk read","net"]}"#,
        #"{"interval": 1e308, "metrics": []}"#,
        #"{"node":"w1","hostname":"h","version":"0.1.0","first_start":1,"last_start":2,"stopped":true,"stopped_at":3}"#,
        #"[{"a":[{"b":null}]}, true, false, -0.0, "\u0000"]"#,
    ].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let interesting: [UInt8] = Array("{}[]\",:0-9.eE\\ntfu".utf8) + [0, 0xff, 0xc3, 0x80]
        for _ in 0...Int.random(in: 0...4, using: &rng) {
            switch Int.random(in: 0...4, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = interesting.randomElement(using: &rng)!
            case 1 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
            case 2: bytes.insert(interesting.randomElement(using: &rng)!, at: Int.random(in: 0...bytes.count, using: &rng))
            case 3 where bytes.count > 2:
                let cut = Int.random(in: 1..<bytes.count, using: &rng)
                bytes = Array(bytes[..<cut])
            default: bytes += (0..<Int.random(in: 0...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
        }
        return bytes
    }

    func inputs(count: Int) -> [[UInt8]] {
        var rng = SeededGenerator(state: 20261121)
        var out: [[UInt8]] = []
        for i in 0..<count {
            if i % 5 == 0 {
                out.append((0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            } else {
                out.append(Self.mutate(Self.seeds.randomElement(using: &rng)!, &rng))
            }
        }
        return out
    }

    func testHeartbeatConfigAndRegistryParsersSurviveFiveThousandInputs() {
        var parsed = [0, 0, 0], rejected = [0, 0, 0]
        for input in inputs(count: 5000) {
            do { _ = try Heartbeat.parse(input); parsed[0] += 1 } catch is HeartbeatError { rejected[0] += 1 } catch {
                XCTFail("Heartbeat.parse threw an untyped \(error) for \(input)")
            }
            do {
                let patch = try AgentConfigPatch.parse(input)
                parsed[1] += 1
                if let interval = patch.interval { XCTAssertTrue(AgentConfig.intervalRange.contains(interval)) }
            } catch is AgentConfigError { rejected[1] += 1 } catch {
                XCTFail("AgentConfigPatch.parse threw an untyped \(error)")
            }
            do { _ = try NodeRecord.parse(input); parsed[2] += 1 } catch is NodeRecordError { rejected[2] += 1 } catch {
                XCTFail("NodeRecord.parse threw an untyped \(error)")
            }
        }
        // Both outcomes were exercised, so the inputs really reached the parsers.
        for i in 0..<3 { XCTAssertGreaterThan(parsed[i], 0); XCTAssertGreaterThan(rejected[i], 0) }
        print("fuzz: heartbeat \(parsed[0]) parsed/\(rejected[0]) rejected, config \(parsed[1])/\(rejected[1]), registry \(parsed[2])/\(rejected[2])")
    }

    /// Well-formed JSON of the wrong shapes: known keys with values of every type
    /// and size (this is where numeric conversions trap, not in broken syntax).
    func testParsersSurviveWellFormedJSONOfEveryShape() throws {
        var rng = SeededGenerator(state: 7)
        let keys = ["status", "ts", "hostname", "interval", "metrics", "node", "version", "seq", "config_error",
                    "memory_total_bytes", "memory_available_bytes", "first_start", "last_start", "stopped",
                    "stopped_at", "cpu", "memory"]
        func value(_ depth: Int) -> Any {
            switch Int.random(in: 0...(depth > 2 ? 5 : 7), using: &rng) {
            case 0: return NSNull()
            case 1: return Bool.random(using: &rng)
            case 2: return [0, -1, 1e308, -1e308, 1e19, -9.3e18, 0.5, 86400, 86401, 2.5e-300].randomElement(using: &rng)!
            case 3: return Int64.random(in: .min ... .max, using: &rng)
            case 4: return ["", "alive", "stopping", "x\u{0}y", String(repeating: "é", count: 300)].randomElement(using: &rng)!
            case 5: return UInt64.max
            case 6: return (0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth + 1) }
            default:
                var d: [String: Any] = [:]
                for _ in 0..<Int.random(in: 0...6, using: &rng) { d[keys.randomElement(using: &rng)!] = value(depth + 1) }
                return d
            }
        }
        var alive = 0
        for _ in 0..<3000 {
            var object: [String: Any] = [:]
            for _ in 0..<Int.random(in: 0...10, using: &rng) { object[keys.randomElement(using: &rng)!] = value(0) }
            let bytes = [UInt8](try JSONSerialization.data(withJSONObject: object))
            if let hb = try? Heartbeat.parse(bytes) { alive += 1; _ = hb.encoded() }
            if let patch = try? AgentConfigPatch.parse(bytes) { _ = AgentConfig.default.applying(patch).summary }
            if let record = try? NodeRecord.parse(bytes) { _ = record.encoded() }
            _ = FleetView(heartbeatKVs: [(key: "/m/heartbeat/a", value: bytes)],
                          registryKVs: [(key: "/m/nodes/a", value: bytes)],
                          layout: KeyLayout(prefix: "/m"), now: 1_800_000_000).summary
        }
        XCTAssertGreaterThan(alive, 0)
    }

    func testFleetViewOfGarbageIsStillAView() {
        let layout = KeyLayout(prefix: "/monitor")
        let garbage = inputs(count: 500)
        let kvs = garbage.enumerated().map { i, value in
            (key: "/monitor/heartbeat/n\(i % 50)" + String(decoding: value.prefix(3), as: UTF8.self), value: value)
        }
        let view = FleetView(heartbeatKVs: kvs, registryKVs: kvs.map { (key: $0.key.replacingOccurrences(of: "heartbeat", with: "nodes"), value: $0.value) },
                             layout: layout, now: 1_800_000_000)
        XCTAssertFalse(view.nodes.isEmpty)
        XCTAssertEqual(view.nodes.count, Set(view.nodes.map(\.name)).count)
    }
}
