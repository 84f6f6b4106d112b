import Foundation

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

    /// Builds a KeyValue from the gateway's JSON object; nil when the key is missing.
    init?(json: [String: Any]) {
        guard let key = JSONValue.bytes(json["key"]) else { return nil }
        self.key = String(decoding: key, as: UTF8.self)
        self.value = JSONValue.bytes(json["value"]) ?? []
        self.createRevision = JSONValue.int64(json["create_revision"]) ?? 0
        self.modRevision = JSONValue.int64(json["mod_revision"]) ?? 0
        self.version = JSONValue.int64(json["version"]) ?? 0
        self.lease = JSONValue.int64(json["lease"]) ?? 0
    }
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
    static func int64(_ any: Any?) -> Int64? {
        switch any {
        case let s as String: return Int64(s)
        case let n as NSNumber:
            // Never through Double: lease IDs exceed 2^53.
            return n.int64Value
        default: return nil
        }
    }

    static func bytes(_ any: Any?) -> [UInt8]? {
        guard let s = any as? String, let data = Data(base64Encoded: s) else { return nil }
        return [UInt8](data)
    }

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

    static func encode(_ object: [String: Any]) -> [UInt8] {
        // Only strings, bools, arrays and dictionaries go in: serialization cannot fail.
        (try? JSONSerialization.data(withJSONObject: object)).map { [UInt8]($0) } ?? Array("{}".utf8)
    }

    static func decodeObject(_ bytes: [UInt8]) -> [String: Any]? {
        guard !bytes.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}
