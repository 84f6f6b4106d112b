import Concurrency
import CCurl
import Foundation

/// A synchronous etcd v3 client over the JSON gateway (`/v3/...`), with failover
/// across a list of endpoints. It owns one reusable HTTP connection; calls are
/// serialised by an internal lock, so give each thread its own client when calls
/// must not wait for each other (the keepalive must never queue behind a slow put).
public final class EtcdClient: @unchecked Sendable {
    public let endpoints: [String]
    public let requestTimeout: Double
    /// Endpoints are tried from here on; moves on when an endpoint fails, so a
    /// dead member costs one failed connect, not one per call.
    private var current = 0
    private let lock = NSLock()
    private let easy = CurlEasy()

    public init(endpoints: [String], requestTimeout: Double = 2) {
        precondition(!endpoints.isEmpty, "at least one etcd endpoint")
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.requestTimeout = requestTimeout
    }

    /// The endpoint the next call tries first.
    public var preferredEndpoint: String {
        lock.lock(); defer { lock.unlock() }
        return endpoints[current]
    }

    // MARK: KV

    /// Puts `value` at `key`, attached to `lease` when non-zero. Returns the new revision.
    @discardableResult
    public func put(_ key: String, value: [UInt8], lease: Int64 = 0) throws -> Int64 {
        var body: [String: Any] = ["key": JSONValue.base64(key), "value": JSONValue.base64(value)]
        if lease != 0 { body["lease"] = String(lease) }
        let reply = try call("/v3/kv/put", body, leaseID: lease)
        return Self.revision(reply)
    }

    @discardableResult
    public func put(_ key: String, _ value: String, lease: Int64 = 0) throws -> Int64 {
        try put(key, value: Array(value.utf8), lease: lease)
    }

    /// Reads `key`, or every key starting with it when `prefix` is true.
    /// `revision` > 0 reads the store as it was then.
    public func range(_ key: String, prefix: Bool = false, limit: Int64 = 0, revision: Int64 = 0) throws -> RangeResult {
        var body: [String: Any] = ["key": JSONValue.base64(key)]
        if revision > 0 { body["revision"] = String(revision) }
        if prefix { body["range_end"] = JSONValue.base64(JSONValue.prefixEnd(key)) }
        if limit > 0 { body["limit"] = String(limit) }
        let reply = try call("/v3/kv/range", body)
        let kvs = (reply["kvs"] as? [[String: Any]] ?? []).compactMap(KeyValue.init(json:))
        return RangeResult(kvs: kvs, revision: Self.revision(reply))
    }

    /// Deletes `key` (or the prefix). Returns how many keys went away.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) throws -> Int64 {
        var body: [String: Any] = ["key": JSONValue.base64(key)]
        if prefix { body["range_end"] = JSONValue.base64(JSONValue.prefixEnd(key)) }
        let reply = try call("/v3/kv/deleterange", body)
        return JSONValue.int64(reply["deleted"]) ?? 0
    }

    /// Compare-and-swap: puts `value` only if `key`'s mod revision is still
    /// `modRevision` (0 = the key must not exist). Returns whether it was written.
    public func putIf(_ key: String, value: [UInt8], modRevision: Int64) throws -> Bool {
        let compare: [String: Any] = [
            "key": JSONValue.base64(key), "result": "EQUAL", "target": "MOD",
            "mod_revision": String(modRevision),
        ]
        let put: [String: Any] = ["request_put": ["key": JSONValue.base64(key), "value": JSONValue.base64(value)]]
        let reply = try call("/v3/kv/txn", ["compare": [compare], "success": [put]])
        return reply["succeeded"] as? Bool ?? false
    }

    /// Compacts the history up to `revision` (operators and tests; the daemons never do).
    public func compact(revision: Int64) throws {
        _ = try call("/v3/kv/compaction", ["revision": String(revision), "physical": true])
    }

    // MARK: Lease

    public func grantLease(ttl: Int64) throws -> Lease {
        let reply = try call("/v3/lease/grant", ["TTL": String(ttl)])
        if let error = reply["error"] as? String, !error.isEmpty {
            throw EtcdError.rejected(code: 0, message: error)
        }
        guard let id = JSONValue.int64(reply["ID"]), id != 0 else {
            throw EtcdError.malformedResponse("lease grant without ID")
        }
        return Lease(id: id, ttl: JSONValue.int64(reply["TTL"]) ?? ttl)
    }

    /// Renews the lease once; returns the TTL etcd reset it to. An expired or
    /// unknown lease is not an error for etcd (the reply simply lacks TTL): it is
    /// `leaseLost` here.
    @discardableResult
    public func keepAlive(_ id: Int64) throws -> Int64 {
        let reply = try call("/v3/lease/keepalive", ["ID": String(id)], leaseID: id)
        let result = reply["result"] as? [String: Any] ?? reply
        guard let ttl = JSONValue.int64(result["TTL"]), ttl > 0 else { throw EtcdError.leaseLost(id: id) }
        return ttl
    }

    /// Revokes the lease, deleting every key attached to it.
    public func revoke(_ id: Int64) throws {
        _ = try call("/v3/lease/revoke", ["ID": String(id)], leaseID: id)
    }

    // MARK: Maintenance

    /// Member ID and the leader it knows, from one specific endpoint (not failed
    /// over): how tests and operators find the leader to kill.
    public func memberStatus(endpoint: String) throws -> (member: UInt64, leader: UInt64) {
        lock.lock(); defer { lock.unlock() }
        let reply = try once(endpoint + "/v3/maintenance/status", JSONValue.encode([:]), endpoint: endpoint, leaseID: nil)
        let header = reply["header"] as? [String: Any] ?? [:]
        // Unsigned and often above Int64.max: parse as UInt64 from the string.
        func u64(_ any: Any?) -> UInt64 { (any as? String).flatMap { UInt64($0) } ?? (any as? NSNumber)?.uint64Value ?? 0 }
        return (u64(header["member_id"]), u64(reply["leader"]))
    }

    // MARK: Transport

    /// POSTs to each endpoint in turn from the preferred one until one answers.
    /// Only "unavailable" moves on; a rejection is final.
    func call(_ path: String, _ body: [String: Any], leaseID: Int64? = nil) throws -> [String: Any] {
        lock.lock(); defer { lock.unlock() }
        let payload = JSONValue.encode(body)
        var lastError = EtcdError.unavailable(endpoint: endpoints[current], reason: "not tried")
        for attempt in 0..<endpoints.count {
            let index = (current + attempt) % endpoints.count
            let endpoint = endpoints[index]
            do {
                let reply = try once(endpoint + path, payload, endpoint: endpoint, leaseID: leaseID)
                current = index
                return reply
            } catch let error as EtcdError where error.isRetryable {
                lastError = error
            }
        }
        // Next call starts with the endpoint after the one that failed first.
        current = (current + 1) % endpoints.count
        throw lastError
    }

    private func once(_ url: String, _ payload: [UInt8], endpoint: String, leaseID: Int64?) throws -> [String: Any] {
        easy.preparePost(url: url, body: payload, timeout: requestTimeout,
                         connectTimeout: min(requestTimeout, 1))
        let (code, status, bytes) = easy.perform()
        guard code == CURLE_OK else {
            throw EtcdError.unavailable(endpoint: endpoint, reason: CurlEasy.reason(code))
        }
        guard let object = JSONValue.decodeObject(bytes) else {
            throw EtcdError.malformedResponse("HTTP \(status) from \(endpoint) with a body that is not a JSON object")
        }
        if status != 200 || (object["code"] != nil && object["message"] != nil && object["header"] == nil) {
            throw EtcdError.fromGatewayBody(object, status: status, endpoint: endpoint, leaseID: leaseID)
        }
        return object
    }

    static func revision(_ reply: [String: Any]) -> Int64 {
        let header = reply["header"] as? [String: Any] ?? [:]
        return JSONValue.int64(header["revision"]) ?? 0
    }
}
