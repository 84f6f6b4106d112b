import CCurl
import Concurrency

/// A synchronous etcd v3 client over the JSON gateway (`/v3/...`), with failover
/// across a list of endpoints. It owns one reusable HTTP connection; calls are
/// serialised by an internal lock, so give each thread its own client when calls
/// must not wait for each other (the keepalive must never queue behind a slow put).
// @unchecked: the curl handle is used only under `current`'s lock, which every
// request holds from start to end; the other stored properties are immutable.
public final class EtcdClient: @unchecked Sendable {
    public let endpoints: [String]
    public let requestTimeout: Double
    /// Endpoints are tried from here on; moves on when an endpoint fails, so a
    /// dead member costs one failed connect, not one per call.
    /// Also serialises the requests on the one reused curl handle.
    private let current = Locked(0)
    private let easy = CurlEasy()
    /// Told of every answer, so the process's watches know their member is alive.
    public let liveness: MemberLiveness?
    /// TLS files and the etcd user, shared by the process's clients and watches.
    public let access: EtcdAccess?

    public init(endpoints: [String], requestTimeout: Double = 2, liveness: MemberLiveness? = nil,
                access: EtcdAccess? = nil) {
        precondition(!endpoints.isEmpty, "at least one etcd endpoint")
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.requestTimeout = requestTimeout
        self.liveness = liveness
        self.access = access
    }

    /// The endpoint the next call tries first.
    public var preferredEndpoint: String {
        current.withLock { endpoints[$0] }
    }

    // MARK: KV

    /// Puts `value` at `key`, attached to `lease` when non-zero. Returns the new revision.
    @discardableResult
    public func put(_ key: String, value: [UInt8], lease: Int64 = 0) throws -> Int64 {
        let body = KeyRequest(key: JSONValue.base64(key), value: JSONValue.base64(value),
                              lease: lease != 0 ? String(lease) : nil)
        return try call("/v3/kv/put", body, leaseID: lease, key: key).header?.revision ?? 0
    }

    @discardableResult
    public func put(_ key: String, _ value: String, lease: Int64 = 0) throws -> Int64 {
        try put(key, value: Array(value.utf8), lease: lease)
    }

    /// Reads `key`, or every key starting with it when `prefix` is true.
    /// `revision` > 0 reads the store as it was then.
    public func range(_ key: String, prefix: Bool = false, limit: Int64 = 0, revision: Int64 = 0) throws -> RangeResult {
        let body = KeyRequest(key: JSONValue.base64(key),
                              rangeEnd: prefix ? JSONValue.base64(JSONValue.prefixEnd(key)) : nil,
                              revision: revision > 0 ? String(revision) : nil, limit: limit > 0 ? String(limit) : nil)
        let reply = try call("/v3/kv/range", body, key: key)
        return RangeResult(kvs: reply.kvs, revision: reply.header?.revision ?? 0)
    }

    /// Deletes `key` (or the prefix). Returns how many keys went away.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) throws -> Int64 {
        let body = KeyRequest(key: JSONValue.base64(key), rangeEnd: prefix ? JSONValue.base64(JSONValue.prefixEnd(key)) : nil)
        return try call("/v3/kv/deleterange", body, key: key).deleted ?? 0
    }

    /// Compare-and-swap: puts `value` only if `key`'s mod revision is still
    /// `modRevision` (0 = the key must not exist). Returns whether it was written.
    public func putIf(_ key: String, value: [UInt8], modRevision: Int64) throws -> Bool {
        try putIf(key, value: value, when: .modRevision(key, modRevision))
    }

    /// Puts `value` at `key` (under `lease` when non-zero) only if `condition`
    /// holds, atomically. Returns whether it was written.
    public func putIf(_ key: String, value: [UInt8], lease: Int64 = 0, when condition: TxnCondition) throws -> Bool {
        let put = KeyRequest(key: JSONValue.base64(key), value: JSONValue.base64(value), lease: lease != 0 ? String(lease) : nil)
        let txn = TxnRequest(compare: [.init(condition)], success: [.init(requestPut: put)])
        return try call("/v3/kv/txn", txn, leaseID: lease != 0 ? lease : nil, key: key).succeeded ?? false
    }

    /// Compacts the history up to `revision` (operators and tests; the daemons never do).
    /// Drops the history before `revision`. `physical`: wait until the space is
    /// really freed (tests) rather than only scheduled (a daemon's loop).
    public func compact(revision: Int64, physical: Bool = true) throws {
        _ = try call("/v3/kv/compaction", CompactionRequest(revision: String(revision), physical: physical))
    }

    /// Puts every pair (without a lease) in one transaction, only if
    /// `condition` holds; all or nothing. Keep batches at or below etcd's
    /// `--max-txn-ops` (128 by default). Returns whether they were written.
    public func putAll(_ pairs: [(key: String, value: [UInt8])], when condition: TxnCondition) throws -> Bool {
        let puts = pairs.map { TxnRequest.Operation(requestPut: KeyRequest(key: JSONValue.base64($0.key),
                                                                           value: JSONValue.base64($0.value))) }
        return try call("/v3/kv/txn", TxnRequest(compare: [.init(condition)], success: puts)).succeeded ?? false
    }

    /// Compare-and-delete: deletes `key` only if its mod revision is still
    /// `modRevision`. Returns whether it was deleted.
    public func deleteIf(_ key: String, modRevision: Int64) throws -> Bool {
        let delete = KeyRequest(key: JSONValue.base64(key))
        let txn = TxnRequest(compare: [.init(.modRevision(key, modRevision))], success: [.init(requestDeleteRange: delete)])
        return try call("/v3/kv/txn", txn).succeeded ?? false
    }

    // MARK: Lease

    public func grantLease(ttl: Int64) throws -> Lease {
        let reply = try call("/v3/lease/grant", LeaseRequest(ttl: String(ttl)))
        if let error = reply.error.errorText, !error.isEmpty {
            throw EtcdError.rejected(code: 0, message: error)
        }
        guard let id = reply.id, id != 0 else {
            throw EtcdError.malformedResponse("lease grant without ID")
        }
        return Lease(id: id, ttl: reply.ttl ?? ttl)
    }

    /// Renews the lease once; returns the TTL etcd reset it to. An expired or
    /// unknown lease is not an error for etcd (the reply simply lacks TTL): it is
    /// `leaseLost` here.
    @discardableResult
    public func keepAlive(_ id: Int64) throws -> Int64 {
        let reply = try call("/v3/lease/keepalive", LeaseRequest(id: String(id)), leaseID: id)
        // The TTL sits in "result" (3.4+), or at the top level when there is none.
        let ttl = reply.result.map(\.ttl) ?? reply.ttl
        guard let ttl, ttl > 0 else { throw EtcdError.leaseLost(id: id) }
        return ttl
    }

    /// The seconds the lease has left; nil when it is gone (expired or revoked:
    /// etcd answers TTL -1 then).
    public func timeToLive(_ id: Int64) throws -> Int64? {
        let reply = try call("/v3/lease/timetolive", LeaseRequest(id: String(id)), leaseID: id)
        return reply.ttl.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Revokes the lease, deleting every key attached to it.
    public func revoke(_ id: Int64) throws {
        _ = try call("/v3/lease/revoke", LeaseRequest(id: String(id)), leaseID: id)
    }

    // MARK: Maintenance

    /// Member ID, the leader it knows and its database size, from one specific
    /// endpoint (not failed over): how tests and operators find the leader to
    /// kill, and how the bench measures the history a fleet adds.
    public func memberStatus(endpoint: String) throws -> (member: UInt64, leader: UInt64, dbSize: Int64) {
        let status = try status(of: endpoint)
        return (status.member, status.leader, status.dbSizeInUse)
    }

    /// What `etcdctl endpoint status` shows of the member at `endpoint` (asked
    /// there, not failed over): its ID, the leader it knows, version, database
    /// size, raft term and indexes, errors.
    public func status(of endpoint: String) throws -> MemberStatus {
        let reply = try current.withLock { _ in
            try authorized(endpoint + "/v3/maintenance/status", JSONValue.encode(EmptyRequest()), endpoint: endpoint, leaseID: nil)
        }
        // Unsigned and often above Int64.max: read as UInt64 (GatewayReply does).
        var status = reply.memberStatus
        (status.member, status.leader, status.dbSizeInUse) = (reply.header?.memberID ?? 0, reply.leader ?? 0, reply.dbSize ?? 0)
        return status
    }

    /// The cluster's active alarms, by type ("NOSPACE": the database is full and
    /// writes are refused; "CORRUPT"); empty when none is raised.
    public func alarms() throws -> [String] {
        try call("/v3/maintenance/alarm", AlarmRequest()).alarms
    }

    // MARK: Transport

    /// POSTs to each endpoint in turn from the preferred one until one answers.
    /// Only "unavailable" moves on; a rejection is final. `key` names the key
    /// in a permission error.
    func call(_ path: String, _ body: some Encodable, leaseID: Int64? = nil, key: String? = nil) throws -> GatewayReply {
        let payload = JSONValue.encode(body)
        do {
            return try current.withLock { current in
                var lastError = EtcdError.unavailable(endpoint: endpoints[current], reason: "not tried")
                for attempt in 0..<endpoints.count {
                    let index = (current + attempt) % endpoints.count
                    let endpoint = endpoints[index]
                    do {
                        let reply = try authorized(endpoint + path, payload, endpoint: endpoint, leaseID: leaseID)
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
        } catch let EtcdError.rejected(code, message) where code == EtcdError.GRPCCode.permissionDenied {
            let who = access?.username.map { "user \($0)" } ?? "this client (no [Etcd] Username)"
            throw EtcdError.rejected(code: code, message: "permission denied: \(who) may not do \(path)"
                                     + (key.map { " on \($0)" } ?? "") + " (\(message))")
        }
    }

    /// One request to `endpoint` with the token in force: authenticates first
    /// when there is none, and once more when etcd says it is no longer valid
    /// (a simple token expired, etcd restarted), so callers never see that.
    func authorized(_ url: String, _ payload: [UInt8], endpoint: String, leaseID: Int64?) throws -> GatewayReply {
        guard let access, access.authenticates else {
            return try once(url, payload, endpoint: endpoint, leaseID: leaseID, token: nil)
        }
        let token = try access.currentToken ?? authenticate(endpoint)
        do {
            return try once(url, payload, endpoint: endpoint, leaseID: leaseID, token: token)
        } catch let error as EtcdError where error.isInvalidToken {
            access.invalidate(token)
            return try once(url, payload, endpoint: endpoint, leaseID: leaseID, token: try authenticate(endpoint))
        }
    }

    /// A new token from `endpoint` for the configured user, stored for every
    /// client of the process. A refusal names the user, never the password.
    @discardableResult
    func authenticate(_ endpoint: String) throws -> String {
        guard let access, let request = access.authenticateRequest else { return "" }
        do {
            let reply = try once(endpoint + "/v3/auth/authenticate", JSONValue.encode(request), endpoint: endpoint,
                                 leaseID: nil, token: nil)
            guard let token = reply.token, !token.isEmpty else {
                throw EtcdError.malformedResponse("auth/authenticate without a token from \(endpoint)")
            }
            access.store(token)
            return token
        } catch let EtcdError.rejected(code, message) {
            let why = message.contains("authentication failed") ? "wrong user name or password"
                : message.contains("authentication is not enabled") ? "authentication is not enabled in etcd; remove [Etcd] Username"
                : message
            throw EtcdError.rejected(code: code, message: "etcd refused user \(request.name) at \(endpoint): \(why)")
        }
    }

    /// The token to send on a watch stream (authenticating first when needed).
    func watchToken(_ endpoint: String) throws -> String? {
        guard let access, access.authenticates else { return nil }
        return try current.withLock { _ in try access.currentToken ?? authenticate(endpoint) }
    }

    /// A reply that is not JSON: etcd's gateway answers some refusals in plain
    /// text. The one that needs explaining gets its cause; others are quoted.
    static func plainTextError(_ bytes: [UInt8], status: Int, endpoint: String) -> EtcdError {
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
            .unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(String.init).joined()
        if text.contains("CommonName of client") {
            return .rejected(code: status, message: "etcd at \(endpoint) refuses a client certificate with a Common Name "
                             + "while authentication is on (its JSON gateway would ignore it): issue the client "
                             + "certificate without a CN, e.g. subject /O=monitor")
        }
        return .malformedResponse("HTTP \(status) from \(endpoint) with a body that is not a JSON object: \(text)")
    }

    private func once(_ url: String, _ payload: [UInt8], endpoint: String, leaseID: Int64?, token: String?) throws -> GatewayReply {
        easy.preparePost(url: url, body: payload, timeout: requestTimeout,
                         connectTimeout: min(requestTimeout, 1), access: access, token: token)
        let (code, status, bytes) = easy.perform()
        guard code == CURLE_OK else {
            throw EtcdError.unavailable(endpoint: endpoint, reason: easy.failureReason(code))
        }
        liveness?.heard(from: endpoint)
        guard let reply = try? GatewayReply(bytes) else {
            throw Self.plainTextError(bytes, status: status, endpoint: endpoint)
        }
        if status != 200 || reply.error.looksLikeError {
            throw EtcdError.fromGatewayBody(reply.error, status: status, endpoint: endpoint, leaseID: leaseID)
        }
        return reply
    }
}
