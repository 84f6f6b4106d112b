@testable import EtcdClient
import Foundation
import XCTest

/// Gateway responses as they come off the wire, valid, mutated and random: the
/// watch line parser never crashes and only throws `EtcdError`.
final class WatchMessageFuzzTests: XCTestCase {
    static let seeds: [String] = [
        #"{"result":{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"3","raft_term":"2"},"created":true}}"#,
        #"{"result":{"header":{"revision":"5"},"events":[{"kv":{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"2","value":"Mw=="}},{"type":"DELETE","kv":{"key":"Yg==","mod_revision":"5"},"prev_kv":{"key":"Yg==","value":"eA=="}}]}}"#,
        #"{"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"4"}}"#,
        #"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}"#,
    ]

    func testParserSurvivesFiveThousandInputs() {
        var state: UInt64 = 42
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        var parsed = 0, rejected = 0, events = 0
        for i in 0..<5000 {
            var bytes = Array(Self.seeds[i % Self.seeds.count].utf8)
            if i % 7 == 6 {
                bytes = (0..<Int(next() % 80)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                for _ in 0..<Int(next() % 5) {
                    let at = Int(next() % UInt64(max(1, bytes.count)))
                    switch next() % 3 {
                    case 0 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: next())
                    case 1 where !bytes.isEmpty: bytes.remove(at: at)
                    default: bytes.insert(Array("{}[]\":,0".utf8)[Int(next() % 8)], at: min(at, bytes.count))
                    }
                }
            }
            do {
                let message = try WatchMessage.parse(bytes, endpoint: "http://fuzz")
                parsed += 1
                events += message.events.count
            } catch is EtcdError {
                rejected += 1
            } catch {
                XCTFail("untyped error \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0)
        XCTAssertGreaterThan(rejected, 0)
        XCTAssertGreaterThan(events, 0)
        print("fuzz: watch lines \(parsed) parsed (\(events) events), \(rejected) rejected")
    }
}
