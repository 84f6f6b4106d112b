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
    /// The reply was not what the JSON gateway documents.
    case malformedResponse(String)
    /// The call was stopped from another thread.
    case cancelled

    /// Whether the same call may succeed later without any change on our side.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .malformedResponse: return true
        case .leaseLost, .compacted, .rejected, .cancelled: return false
        }
    }

    public var description: String {
        switch self {
        case let .unavailable(endpoint, reason): return "etcd unreachable at \(endpoint) (\(reason))"
        case let .leaseLost(id): return "lease \(id) lost"
        case let .compacted(rev): return "revision compacted (compact revision \(rev))"
        case let .rejected(code, message): return "etcd rejected the request (code \(code)): \(message)"
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
struct GatewayErrorBody: Decodable {
    struct Fields: Decodable {
        var code: Int64?
        var grpcCode: Int64?
        var httpCode: Int64?
        var message: String?

        private enum Key: String, CodingKey { case code, message, grpcCode = "grpc_code", httpCode = "http_code" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            code = c.int64(.code)
            grpcCode = c.int64(.grpcCode)
            httpCode = c.int64(.httpCode)
            message = c.lenient(String.self, .message)
        }
    }

    /// The body's own code and message.
    var top: Fields
    /// `"error"` when it is an object (watch streams).
    var nested: Fields?
    /// `"error"` when it is a string (3.4/3.5 unary calls).
    var errorText: String?
    /// A 200 reply can still be an error: code and message but no header.
    var looksLikeError: Bool

    private enum Key: String, CodingKey { case code, message, header, error }

    init(from decoder: Decoder) throws {
        // Throws only when the body is not a JSON object.
        let c = try decoder.container(keyedBy: Key.self)
        top = try Fields(from: decoder)
        nested = c.lenient(Fields.self, .error)
        errorText = c.lenient(String.self, .error)
        looksLikeError = c.contains(.code) && c.contains(.message) && !c.contains(.header)
    }
}
