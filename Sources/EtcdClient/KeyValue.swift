#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One key as etcd stores it. Keys are decoded as UTF-8 (lossily: a binary key
/// under our prefix must not crash anyone); values stay bytes.
public struct KeyValue: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var lease: Int64

    public init(key: String, value: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0,
                version: Int64 = 0, lease: Int64 = 0) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }

    public var valueString: String { String(decoding: value, as: UTF8.self) }
}

/// One change seen by a watch.
public struct WatchEvent: Equatable, Sendable {
    public enum Kind: Sendable { case put, delete }
    public var kind: Kind
    public var kv: KeyValue
    /// The value before this change, when the watch asked for it and etcd still had it.
    public var previous: KeyValue?

    public init(kind: Kind, kv: KeyValue, previous: KeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.previous = previous
    }
}

/// The result of a range read: the keys and the store revision they were read at.
public struct RangeResult: Sendable {
    public var kvs: [KeyValue]
    public var revision: Int64
}

/// A granted lease: its ID and the TTL etcd really gave (it may raise small TTLs).
public struct Lease: Equatable, Sendable {
    public var id: Int64
    public var ttl: Int64

    public init(id: Int64, ttl: Int64) {
        self.id = id
        self.ttl = ttl
    }
}

/// Helpers for the gateway's JSON conventions: int64 as strings (or numbers),
/// bytes as standard base64, zero values omitted.
enum JSONValue {
    static func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    static func base64(_ b: [UInt8]) -> String { Data(b).base64EncodedString() }

    /// The range_end that selects every key starting with `prefix`: the prefix
    /// with its last byte incremented (dropping trailing 0xff bytes).
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0] // every key
    }

    /// A request body. Requests hold only strings and bools, so encoding cannot
    /// fail; keys are sorted so that equal requests are equal bytes (tests).
    static func encode(_ request: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(request)).map { [UInt8]($0) } ?? Array("{}".utf8)
    }

    /// A reply or watch line; throws when it is not a JSON object (the reply types
    /// read every field leniently, so nothing else can fail).
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}

extension KeyedDecodingContainer {
    /// The field as `T`, or nil when it is missing, null or of another type: like
    /// the dictionary lookups this replaces, one odd field never fails a reply.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(type, forKey: key)) ?? nil
    }

    /// A 64-bit integer sent as a JSON string ("revision":"12") or number; never
    /// through Double, since lease IDs exceed 2^53.
    func int64(_ key: Key) -> Int64? {
        lenient(String.self, key).map { Int64($0) } ?? lenient(Int64.self, key)
    }

    /// Like `int64`, for the unsigned IDs (member_id, leader) that exceed Int64.max.
    func uint64(_ key: Key) -> UInt64? {
        lenient(String.self, key).map { UInt64($0) } ?? lenient(UInt64.self, key)
    }

    /// Standard base64 bytes (keys and values); nil when missing or not base64.
    func bytes(_ key: Key) -> [UInt8]? {
        lenient(String.self, key).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
    }
}

/// The `header` of a reply or watch message.
struct ReplyHeader: Decodable {
    var revision: Int64?
    var memberID: UInt64?

    private enum Key: String, CodingKey { case revision, memberID = "member_id" }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        revision = c.int64(.revision)
        memberID = c.uint64(.memberID)
    }
}

/// One kv object of a reply or event; `keyValue` is nil when the key is missing.
/// Decoding throws only when the element is not an object, which drops the whole
/// list, as the `[[String: Any]]` cast did.
struct DecodedKeyValue: Decodable {
    var keyValue: KeyValue?

    private enum Key: String, CodingKey {
        case key, value, version, lease
        case createRevision = "create_revision", modRevision = "mod_revision"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard let key = c.bytes(.key) else { return }
        // Keys as UTF-8, lossily: a binary key under our prefix must not crash anyone.
        keyValue = KeyValue(key: String(decoding: key, as: UTF8.self), value: c.bytes(.value) ?? [],
                            createRevision: c.int64(.createRevision) ?? 0, modRevision: c.int64(.modRevision) ?? 0,
                            version: c.int64(.version) ?? 0, lease: c.int64(.lease) ?? 0)
    }
}

// MARK: Unary gateway calls (int64 as strings, bytes as base64, absent = left out)

/// The body of put, range and deleterange (each sets the fields it needs).
struct KeyRequest: Encodable {
    var key: String
    var value: String?
    var lease: String?
    var rangeEnd: String?
    var revision: String?
    var limit: String?

    private enum CodingKeys: String, CodingKey { case key, value, lease, revision, limit, rangeEnd = "range_end" }

    init(key: String, value: String? = nil, lease: String? = nil, rangeEnd: String? = nil,
         revision: String? = nil, limit: String? = nil) {
        (self.key, self.value, self.lease, self.rangeEnd, self.revision, self.limit) = (key, value, lease, rangeEnd, revision, limit)
    }
}

/// A compare-and-swap on one key's mod revision.
struct TxnRequest: Encodable {
    struct Compare: Encodable {
        var key: String
        var result = "EQUAL"
        var target = "MOD"
        var modRevision: String
        private enum CodingKeys: String, CodingKey { case key, result, target, modRevision = "mod_revision" }
    }

    struct Operation: Encodable {
        var requestPut: KeyRequest
        private enum CodingKeys: String, CodingKey { case requestPut = "request_put" }
    }

    var compare: [Compare]
    var success: [Operation]
}

struct CompactionRequest: Encodable {
    var revision: String
    var physical: Bool
}

/// Grant (`TTL`), keepalive and revoke (`ID`).
struct LeaseRequest: Encodable {
    var ttl: String?
    var id: String?
    private enum CodingKeys: String, CodingKey { case ttl = "TTL", id = "ID" }
    init(ttl: String? = nil, id: String? = nil) { (self.ttl, self.id) = (ttl, id) }
}

/// `{}`: maintenance/status takes no arguments.
struct EmptyRequest: Encodable {}

/// Every field the client reads from a unary reply; each call reads its own.
/// Missing or mistyped fields are nil (or empty), as with the dictionaries this
/// replaces; decoding throws only when the body is not a JSON object.
struct GatewayReply: Decodable {
    struct LeaseResult: Decodable {
        var ttl: Int64?
        private enum Key: String, CodingKey { case ttl = "TTL" }
        init(from decoder: Decoder) throws { ttl = try decoder.container(keyedBy: Key.self).int64(.ttl) }
    }

    var header: ReplyHeader?
    var kvs: [KeyValue]
    var deleted: Int64?
    var succeeded: Bool?
    var id: Int64?
    var ttl: Int64?
    /// keepalive's `{"result":{"TTL":...}}`.
    var result: LeaseResult?
    var leader: UInt64?
    var error: GatewayErrorBody

    private enum Key: String, CodingKey { case header, kvs, deleted, succeeded, result, leader, id = "ID", ttl = "TTL" }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        header = c.lenient(ReplyHeader.self, .header)
        kvs = c.lenient([DecodedKeyValue].self, .kvs)?.compactMap(\.keyValue) ?? []
        deleted = c.int64(.deleted)
        succeeded = c.lenient(Bool.self, .succeeded)
        id = c.int64(.id)
        ttl = c.int64(.ttl)
        result = c.lenient(LeaseResult.self, .result)
        leader = c.uint64(.leader)
        error = try GatewayErrorBody(from: decoder)
    }
}
