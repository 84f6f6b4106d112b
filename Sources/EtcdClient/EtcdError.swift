import JSONStream
/// Every failure of an etcd call, classified once so that callers decide by kind
/// (retry, re-grant, re-read, give up) and never by parsing messages.
public enum EtcdError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No endpoint answered, or the cluster said "try again" (no leader, timeout).
    /// `endpoint` is the last one tried; `reason` is short and human ("connection refused").
    case unavailable(endpoint: String, reason: String)
    /// The lease is gone: expired, revoked, or never existed. Re-grant.
    case leaseLost(id: Int64)
    /// The requested revision was compacted away; re-read the current state.
    case compacted(compactRevision: Int64)
    /// etcd refused the request for good (bad argument, permission, auth): retrying
    /// the same request will not help.
    case rejected(code: Int, message: String)
    /// etcd's database reached its quota (the NOSPACE alarm): every write is
    /// refused until an operator compacts, defragments and disarms the alarm.
    /// Reads, watches and lease keepalives still work.
    case noSpace(endpoint: String)
    /// The reply was not what the JSON gateway documents.
    case malformedResponse(String)
    /// The call was stopped from another thread.
    case cancelled

    /// etcd does not accept the auth token (expired simple token, etcd
    /// restarted, none sent): authenticate again and retry.
    public var isInvalidToken: Bool {
        guard case let .rejected(code, message) = self else { return false }
        return code == GRPCCode.unauthenticated || message.contains("invalid auth token")
            || message.contains("user name is empty")
    }

    public var isNoSpace: Bool {
        if case .noSpace = self { return true }
        return false
    }

    /// Whether the same call may succeed later without any change on our side.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .malformedResponse: return true
        case .leaseLost, .compacted, .rejected, .noSpace, .cancelled: return false
        }
    }

    public var description: String {
        switch self {
        case let .unavailable(endpoint, reason): return "etcd unreachable at \(endpoint) (\(reason))"
        case let .leaseLost(id): return "lease \(id) lost"
        case let .compacted(rev): return "revision compacted (compact revision \(rev))"
        case let .rejected(code, message): return "etcd rejected the request (code \(code)): \(message)"
        case let .noSpace(endpoint):
            return "etcd at \(endpoint) is out of space (NOSPACE alarm: database space exceeded); it refuses writes "
                + "until an operator compacts, defragments and disarms (etcdctl alarm disarm)"
        case let .malformedResponse(what): return "malformed etcd response: \(what)"
        case .cancelled: return "cancelled"
        }
    }

    /// Short reason for status lines: "connection refused", "lease lost", ...
    public var shortReason: String {
        switch self {
        case let .unavailable(_, reason): return reason
        case .leaseLost: return "lease lost"
        case .compacted: return "compacted"
        case let .rejected(_, message): return message
        case .noSpace: return "etcd out of space (NOSPACE alarm)"
        case .malformedResponse: return "malformed response"
        case .cancelled: return "cancelled"
        }
    }

    /// gRPC status codes that the JSON gateway forwards in its error bodies.
    enum GRPCCode {
        static let notFound = 5
        static let permissionDenied = 7
        static let outOfRange = 11
        static let unavailable = 14
        static let deadlineExceeded = 4
        static let unauthenticated = 16
    }

    /// Classifies any gateway error body: top-level `{"code","message"}` (unary
    /// calls) or the stream form `{"error":{"grpc_code","message"}}`.
    static func fromGatewayBody(_ body: GatewayErrorBody, status: Int, endpoint: String, leaseID: Int64?) -> EtcdError {
        let fields = body.nested ?? body.top
        let code = Int(fields.code ?? fields.grpcCode ?? (status == 503 ? 14 : 2))
        let message = fields.message ?? body.errorText ?? "HTTP \(status)"
        return fromGateway(code: code, message: message, endpoint: endpoint, leaseID: leaseID)
    }

    /// Classifies a gateway error body (`{"error","code","message"}` on 3.4/3.5,
    /// `{"code","message"}` on 3.6).
    static func fromGateway(code: Int, message: String, endpoint: String, leaseID: Int64?) -> EtcdError {
        if message.contains("lease not found") { return .leaseLost(id: leaseID ?? 0) }
        // etcd's ErrNoSpace, "etcdserver: mvcc: database space exceeded" (code 8).
        if message.contains("database space exceeded") { return .noSpace(endpoint: endpoint) }
        switch code {
        case GRPCCode.unavailable, GRPCCode.deadlineExceeded:
            return .unavailable(endpoint: endpoint, reason: message)
        case GRPCCode.outOfRange where message.contains("compacted"):
            return .compacted(compactRevision: 0)
        default:
            return .rejected(code: code, message: message)
        }
    }
}

/// The error parts of a gateway body, read leniently: 3.4/3.5 answer
/// `{"error":"...","code":N,"message":"..."}`, 3.6 `{"code":N,"message":"..."}`,
/// a watch stream `{"error":{"grpc_code":N,"http_code":N,"message":"..."}}`.
struct GatewayErrorBody {
    struct Fields {
        var code: Int64?
        var grpcCode: Int64?
        var httpCode: Int64?
        var message: String?

        /// Reads `key` if it is one of these fields; false (nothing read) otherwise.
        mutating func read(_ key: String, _ reader: inout JSONReader) throws -> Bool {
            switch key {
            case "code": code = try reader.int64()
            case "grpc_code": grpcCode = try reader.int64()
            case "http_code": httpCode = try reader.int64()
            case "message": message = try reader.string()
            default: return false
            }
            return true
        }

        /// An `"error"` object.
        init(reading reader: inout JSONReader) throws {
            try reader.object { reader, key in
                if try !read(key, &reader) { try reader.skip() }
            }
        }

        init() {}
    }

    /// The body's own code and message.
    var top = Fields()
    /// `"error"` when it is an object (watch streams).
    var nested: Fields?
    /// `"error"` when it is a string (3.4/3.5 unary calls).
    var errorText: String?
    private var hasCode = false, hasMessage = false, hasHeader = false

    /// A 200 reply can still be an error: code and message but no header.
    var looksLikeError: Bool { hasCode && hasMessage && !hasHeader }

    init() {}

    /// A whole body that is read for its error parts only; throws when it is not a JSON object.
    init(_ bytes: [UInt8]) throws {
        self = try JSONValue.decode(bytes) { reader in
            var body = GatewayErrorBody()
            try reader.object { reader, key in try body.read(key, &reader) }
            return body
        }
    }

    /// Reads one top-level member of a body (skipping those that are not error parts).
    mutating func read(_ key: String, _ reader: inout JSONReader) throws {
        switch key {
        case "code": hasCode = true
        case "message": hasMessage = true
        case "header": hasHeader = true
        default: break
        }
        if key == "error" {
            switch try reader.kind() {
            case .object: nested = try Fields(reading: &reader)
            case .string: errorText = try reader.readString()
            default: try reader.skip()
            }
        } else if try !top.read(key, &reader) {
            try reader.skip()
        }
    }
}
