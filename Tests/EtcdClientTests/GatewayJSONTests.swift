@testable import EtcdClient
import XCTest

/// The gateway's JSON through the Codable request and reply types: exact request
/// bytes, int64 fields as strings, unsigned IDs above Int64.max, base64 keys, and
/// the error classification with its messages.
final class GatewayJSONTests: XCTestCase {
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testRequestBodies() {
        let put = KeyRequest(key: JSONValue.base64("/m/a"), value: JSONValue.base64("1"), lease: "7587899057432654086")
        XCTAssertEqual(text(JSONValue.encode(put)), #"{"key":"L20vYQ==","lease":"7587899057432654086","value":"MQ=="}"#)
        let range = KeyRequest(key: JSONValue.base64("/m/"), rangeEnd: JSONValue.base64(JSONValue.prefixEnd("/m/")),
                               revision: "12", limit: "5")
        XCTAssertEqual(text(JSONValue.encode(range)), #"{"key":"L20v","limit":"5","range_end":"L20w","revision":"12"}"#)
        let txn = TxnRequest(compare: [.init(.modRevision("a", 0))],
                             success: [.init(requestPut: KeyRequest(key: "YQ==", value: "Yg=="))])
        XCTAssertEqual(text(JSONValue.encode(txn)),
                       #"{"compare":[{"key":"YQ==","mod_revision":"0","result":"EQUAL","target":"MOD"}],"#
                       + #""success":[{"request_put":{"key":"YQ==","value":"Yg=="}}]}"#)
        XCTAssertEqual(text(JSONValue.encode(TxnRequest.Compare(.absent("a")))),
                       #"{"create_revision":"0","key":"YQ==","result":"EQUAL","target":"CREATE"}"#)
        XCTAssertEqual(text(JSONValue.encode(TxnRequest.Compare(.leaseOf("a", 42)))),
                       #"{"key":"YQ==","lease":"42","result":"EQUAL","target":"LEASE"}"#)
        XCTAssertEqual(text(JSONValue.encode(KeyRequest(key: "YQ==", limit: "1", serializable: true, countOnly: true))),
                       #"{"count_only":true,"key":"YQ==","limit":"1","serializable":true}"#)
        XCTAssertEqual(text(JSONValue.encode(LeaseRequest(ttl: "5"))), #"{"TTL":"5"}"#)
        XCTAssertEqual(text(JSONValue.encode(LeaseRequest(id: "42"))), #"{"ID":"42"}"#)
        XCTAssertEqual(text(JSONValue.encode(CompactionRequest(revision: "9", physical: true))), #"{"physical":true,"revision":"9"}"#)
        XCTAssertEqual(text(JSONValue.encode(EmptyRequest())), "{}")
        let watch = WatchRequest(createRequest: WatchCreateRequest(key: "YQ==", rangeEnd: "Yg==", startRevision: "3"))
        XCTAssertEqual(text(JSONValue.encode(watch)),
                       #"{"create_request":{"key":"YQ==","prev_kv":true,"progress_notify":true,"range_end":"Yg==","start_revision":"3"}}"#)
    }

    func testReplies() throws {
        let range = try GatewayReply(bytes(
            #"{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"12","raft_term":"2"},"#
            + #""kvs":[{"key":"L20vYQ==","create_revision":"3","mod_revision":"12","version":"4","value":"MQ==","lease":"7587899057432654086"},"#
            + #"{"value":"eA=="}],"count":"1"}"#))
        XCTAssertEqual(range.header?.revision, 12)
        XCTAssertEqual(range.header?.memberID, 10_276_657_743_932_975_437)
        XCTAssertEqual(range.kvs, [KeyValue(key: "/m/a", value: bytes("1"), createRevision: 3, modRevision: 12, version: 4,
                                            lease: 7_587_899_057_432_654_086)], "an entry without key is dropped")
        XCTAssertFalse(range.error.looksLikeError)
        let keepalive = try GatewayReply(bytes(#"{"result":{"ID":"5","TTL":"5"}}"#))
        XCTAssertEqual(keepalive.result?.ttl, 5)
        let expired = try GatewayReply(bytes(#"{"result":{"header":{"revision":"9"},"ID":"5"}}"#))
        XCTAssertNotNil(expired.result)
        XCTAssertNil(expired.result?.ttl, "an expired lease: no TTL")
        let numbers = try GatewayReply(bytes(#"{"ID":7587899057432654086,"TTL":5,"leader":"18446744073709551615","deleted":"2","succeeded":true}"#))
        XCTAssertEqual(numbers.id, 7_587_899_057_432_654_086, "numbers too, never through Double")
        XCTAssertEqual(numbers.ttl, 5)
        XCTAssertEqual(numbers.leader, .max)
        XCTAssertEqual(numbers.deleted, 2)
        XCTAssertEqual(numbers.succeeded, true)
        let odd = try GatewayReply(bytes(#"{"header":5,"kvs":[1],"ID":"x","succeeded":"yes"}"#))
        XCTAssertNil(odd.header)
        XCTAssertEqual(odd.kvs, [])
        XCTAssertNil(odd.id)
        XCTAssertNil(odd.succeeded)
        for notObject in ["", "[]", "5", "nul"] {
            XCTAssertThrowsError(try GatewayReply(bytes(notObject)))
        }
    }

    func testErrorBodies() throws {
        func classify(_ body: String, status: Int = 400) throws -> EtcdError {
            EtcdError.fromGatewayBody(try GatewayErrorBody(bytes(body)),
                                      status: status, endpoint: "http://e", leaseID: 9)
        }
        XCTAssertEqual(try classify(#"{"error":"etcdserver: requested lease not found","code":5,"message":"etcdserver: requested lease not found"}"#, status: 404),
                       .leaseLost(id: 9))
        XCTAssertEqual(try classify(#"{"code":14,"message":"etcdserver: no leader"}"#, status: 503),
                       .unavailable(endpoint: "http://e", reason: "etcdserver: no leader"))
        XCTAssertEqual(try classify(#"{"code":"11","message":"etcdserver: mvcc: required revision has been compacted"}"#),
                       .compacted(compactRevision: 0))
        XCTAssertEqual(try classify(#"{"error":"permission denied"}"#), .rejected(code: 2, message: "permission denied"))
        XCTAssertEqual(try classify(#"{"error":{"grpc_code":7,"message":"denied"}}"#), .rejected(code: 7, message: "denied"))
        XCTAssertEqual(try classify("{}", status: 503), .unavailable(endpoint: "http://e", reason: "HTTP 503"))
        XCTAssertTrue(try GatewayErrorBody(bytes(#"{"code":3,"message":"bad"}"#)).looksLikeError)
        XCTAssertFalse(try GatewayErrorBody(bytes(#"{"code":3,"message":"m","header":{}}"#)).looksLikeError)
        XCTAssertEqual(EtcdError.rejected(code: 3, message: "bad").description, "etcd rejected the request (code 3): bad")
    }

    func testWatchLines() throws {
        let put = try WatchMessage.parse(bytes(WatchMessageFuzzTests.seeds[1]), endpoint: "http://e")
        XCTAssertEqual(put.revision, 5)
        XCTAssertEqual(put.events, [
            WatchEvent(kind: .put, kv: KeyValue(key: "a", value: bytes("3"), createRevision: 2, modRevision: 5, version: 2)),
            WatchEvent(kind: .delete, kv: KeyValue(key: "b", value: [], modRevision: 5), previous: KeyValue(key: "b", value: bytes("x"))),
        ])
        XCTAssertEqual(put.nextRevision(after: 1), 6)
        let created = try WatchMessage.parse(bytes(WatchMessageFuzzTests.seeds[0]), endpoint: "http://e")
        XCTAssertTrue(created.created)
        XCTAssertEqual(created.revision, 3)
        let canceled = try WatchMessage.parse(bytes(WatchMessageFuzzTests.seeds[2]), endpoint: "http://e")
        XCTAssertTrue(canceled.canceled)
        XCTAssertEqual(canceled.compactRevision, 4)
        XCTAssertThrowsError(try WatchMessage.parse(bytes(WatchMessageFuzzTests.seeds[3]), endpoint: "http://e")) {
            XCTAssertEqual($0 as? EtcdError, .unavailable(endpoint: "http://e", reason: "etcdserver: no leader"))
        }
        XCTAssertThrowsError(try WatchMessage.parse(bytes("[1]"), endpoint: "http://e")) {
            XCTAssertEqual("\($0)", "malformed etcd response: watch line is not a JSON object")
        }
        XCTAssertThrowsError(try WatchMessage.parse(bytes(#"{"result":5}"#), endpoint: "http://e")) {
            XCTAssertEqual("\($0)", "malformed etcd response: watch line without result")
        }
    }
}
