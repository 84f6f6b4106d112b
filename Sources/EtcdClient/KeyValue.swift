#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSONStream

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
    static func base64(_ s: String) -> String { Base64.encode(s.utf8) }
    static func base64(_ b: [UInt8]) -> String { Base64.encode(b) }

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

    /// Reads a reply or watch line with `read`, which reads the top-level object
    /// (`JSONReader.object` throws when it is not one), then checks that nothing
    /// follows; throws when the bytes are not one JSON object (the reply types read every
    /// field leniently, so nothing else can fail).
    static func decode<T>(_ bytes: [UInt8], _ read: (inout JSONReader) throws -> T) throws -> T {
        var reader = JSONReader(bytes)
        let value = try read(&reader)
        try reader.end()
        return value
    }
}

extension JSONReader {
    /// A 64-bit integer sent as a JSON string ("revision":"12") or number; never
    /// through Double, since lease IDs exceed 2^53. Nil for anything else.
    mutating func int64() throws -> Int64? {
        try integerText().flatMap { Int64($0) }
    }

    /// Like `int64`, for the unsigned IDs (member_id, leader) that exceed Int64.max.
    mutating func uint64() throws -> UInt64? {
        try integerText().flatMap { UInt64($0) }
    }
}

/// The `header` of a reply or watch message.
struct ReplyHeader {
    var revision: Int64?
    var memberID: UInt64?

    init(reading reader: inout JSONReader) throws {
        try reader.object { reader, key in
            switch key {
            case "revision": revision = try reader.int64()
            case "member_id": memberID = try reader.uint64()
            default: try reader.skip()
            }
        }
    }
}

/// One kv object of a reply or event; nil when the key is missing or not base64.
/// Keys are decoded as UTF-8, lossily: a binary key under our prefix must not
/// crash anyone. Values are decoded from base64 straight out of the reply.
enum DecodedKeyValue {
    static func read(_ reader: inout JSONReader) throws -> KeyValue? {
        var key: [UInt8]?
        var kv = KeyValue(key: "", value: [])
        try reader.object { reader, name in
            switch name {
            case "key": key = try reader.base64()
            case "value": kv.value = try reader.base64() ?? []
            case "create_revision": kv.createRevision = try reader.int64() ?? 0
            case "mod_revision": kv.modRevision = try reader.int64() ?? 0
            case "version": kv.version = try reader.int64() ?? 0
            case "lease": kv.lease = try reader.int64() ?? 0
            default: try reader.skip()
            }
        }
        guard let key else { return nil }
        kv.key = String(decoding: key, as: UTF8.self)
        return kv
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
    /// Answered by the member itself, without asking the leader (the watch probe).
    var serializable: Bool?
    var countOnly: Bool?

    private enum CodingKeys: String, CodingKey {
        case key, value, lease, revision, limit, serializable, rangeEnd = "range_end", countOnly = "count_only"
    }

    init(key: String, value: String? = nil, lease: String? = nil, rangeEnd: String? = nil,
         revision: String? = nil, limit: String? = nil, serializable: Bool? = nil, countOnly: Bool? = nil) {
        (self.key, self.value, self.lease, self.rangeEnd, self.revision, self.limit) = (key, value, lease, rangeEnd, revision, limit)
        (self.serializable, self.countOnly) = (serializable, countOnly)
    }
}

/// A put guarded by one comparison (`TxnCondition`).
struct TxnRequest: Encodable {
    struct Compare: Encodable {
        var key: String
        var result = "EQUAL"
        var target: String
        var modRevision: String?
        var createRevision: String?
        var lease: String?
        private enum CodingKeys: String, CodingKey {
            case key, result, target, lease, modRevision = "mod_revision", createRevision = "create_revision"
        }

        init(_ condition: TxnCondition) {
            switch condition {
            case let .modRevision(key, revision):
                (self.key, target, modRevision) = (JSONValue.base64(key), "MOD", String(revision))
            case let .absent(key):
                (self.key, target, createRevision) = (JSONValue.base64(key), "CREATE", "0")
            case let .leaseOf(key, lease):
                (self.key, target, self.lease) = (JSONValue.base64(key), "LEASE", String(lease))
            }
        }
    }

    struct Operation: Encodable {
        var requestPut: KeyRequest?
        var requestDeleteRange: KeyRequest?
        private enum CodingKeys: String, CodingKey {
            case requestPut = "request_put", requestDeleteRange = "request_delete_range"
        }
    }

    var compare: [Compare]
    var success: [Operation]
}

/// What a guarded put (`EtcdClient.putIf`) requires of the store.
public enum TxnCondition: Sendable, Equatable {
    /// The key's mod revision is still this (0: the key does not exist).
    case modRevision(String, Int64)
    /// The key does not exist (an election: first come, first served).
    case absent(String)
    /// The key is held under this lease (a leader's writes, fenced by its key).
    case leaseOf(String, Int64)
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

/// maintenance/alarm: `{"action": "GET"}` lists the active alarms.
struct AlarmRequest: Encodable {
    var action = "GET"
}

/// Every field the client reads from a unary reply; each call reads its own.
/// Missing or mistyped fields are nil (or empty), as with the dictionaries this
/// replaces; decoding throws only when the body is not a JSON object. One pass
/// over the body: a range of 10,000 keys builds no intermediate tree.
struct GatewayReply {
    struct LeaseResult {
        var ttl: Int64?
    }

    var header: ReplyHeader?
    var kvs: [KeyValue] = []
    var deleted: Int64?
    var succeeded: Bool?
    var id: Int64?
    var ttl: Int64?
    /// keepalive's `{"result":{"TTL":...}}`.
    var result: LeaseResult?
    var leader: UInt64?
    /// maintenance/status: the bytes in use in the backend database (dbSizeInUse; the
    /// file, dbSize, grows in large steps and never shrinks without a defrag).
    var dbSize: Int64?
    /// maintenance/alarm: the active alarms' types ("NOSPACE", "CORRUPT").
    var alarms: [String] = []
    /// auth/authenticate's token.
    var token: String?
    /// maintenance/status: the rest of what `etcdctl endpoint status` shows.
    var memberStatus = MemberStatus()
    var error = GatewayErrorBody()

    init(_ bytes: [UInt8]) throws {
        self = try JSONValue.decode(bytes) { reader in
            var reply = GatewayReply()
            try reader.object { reader, key in
                switch key {
                case "header": reply.header = try reader.ifObject { try ReplyHeader(reading: &$0) }
                case "kvs": reply.kvs = try reader.objects(DecodedKeyValue.read)?.compactMap { $0 } ?? []
                case "deleted": reply.deleted = try reader.int64()
                case "succeeded": reply.succeeded = try reader.bool()
                case "ID": reply.id = try reader.int64()
                case "TTL": reply.ttl = try reader.int64()
                case "result":
                    reply.result = try reader.ifObject { reader in
                        var result = LeaseResult()
                        try reader.object { reader, key in
                            if key == "TTL" { result.ttl = try reader.int64() } else { try reader.skip() }
                        }
                        return result
                    }
                case "leader": reply.leader = try reader.uint64()
                case "token": reply.token = try reader.string()
                case "dbSizeInUse": reply.dbSize = try reader.int64()
                case "dbSize": reply.memberStatus.dbSizeFile = try reader.int64() ?? 0
                case "version": reply.memberStatus.version = try reader.string() ?? ""
                case "raftTerm": reply.memberStatus.raftTerm = try reader.uint64() ?? 0
                case "raftIndex": reply.memberStatus.raftIndex = try reader.uint64() ?? 0
                case "raftAppliedIndex": reply.memberStatus.raftAppliedIndex = try reader.uint64() ?? 0
                case "errors":
                    guard try reader.kind() == .array else { try reader.skip(); break }
                    try reader.array { reader in
                        if let error = try reader.string() { reply.memberStatus.errors.append(error) }
                    }
                case "alarms":
                    reply.alarms = try reader.objects { reader in
                        var alarm: String?
                        try reader.object { reader, key in
                            if key == "alarm" { alarm = try reader.string() } else { try reader.skip() }
                        }
                        return alarm
                    }?.compactMap { $0 } ?? []
                default: try reply.error.read(key, &reader)
                }
            }
            return reply
        }
    }

    private init() {}
}

/// One member's `/v3/maintenance/status` (`EtcdClient.status(of:)`). IDs, term and
/// indexes are unsigned 64-bit (they are sent as strings, may exceed Int64.max).
public struct MemberStatus: Equatable, Sendable {
    public var member: UInt64 = 0
    /// The leader this member knows; 0 when it knows none.
    public var leader: UInt64 = 0
    public var version = ""
    /// The database file's size (what `etcdctl endpoint status` shows as DB SIZE).
    public var dbSizeFile: Int64 = 0
    /// The bytes in use in it.
    public var dbSizeInUse: Int64 = 0
    public var raftTerm: UInt64 = 0
    public var raftIndex: UInt64 = 0
    public var raftAppliedIndex: UInt64 = 0
    /// The member's own alarms and errors ("NOSPACE", ...).
    public var errors: [String] = []

    public var isLeader: Bool { member != 0 && member == leader }

    public init() {}
}
