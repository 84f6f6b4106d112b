import Concurrency

/// What a process shows etcd besides its requests: the TLS files (the CA that
/// signs etcd's certificate, a client certificate and key) and an etcd user,
/// whose token it holds and renews. Shared by every client and watch of one
/// process, so one authentication serves them all and a token that etcd
/// declares invalid (expired simple token, etcd restarted) is replaced once.
/// The password never leaves this object: not in `description`, not in errors.
public final class EtcdAccess: Sendable, CustomStringConvertible {
    public let caFile: String?
    public let certFile: String?
    public let keyFile: String?
    public let username: String?
    private let password: String?
    private let token = Locked<String?>(nil)

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                username: String? = nil, password: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
    }

    /// The access for these settings; nil when none is set (plain HTTP, no user).
    public static func of(caFile: String?, certFile: String?, keyFile: String?, username: String?,
                          password: String?) -> EtcdAccess? {
        guard caFile != nil || certFile != nil || keyFile != nil || username != nil else { return nil }
        return EtcdAccess(caFile: caFile, certFile: certFile, keyFile: keyFile, username: username, password: password)
    }

    /// Whether requests need a token (a user is configured).
    public var authenticates: Bool { username != nil }

    public var description: String {
        [caFile.map { "CA \($0)" }, certFile.map { "client certificate \($0)" }, username.map { "user \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// The token in force, if any.
    var currentToken: String? { token.withLock { $0 } }

    /// Forgets `stale` (etcd refused it), unless another thread already replaced it.
    func invalidate(_ stale: String?) {
        token.withLock { if $0 == stale { $0 = nil } }
    }

    func store(_ new: String) { token.withLock { $0 = new } }

    /// The body of `/v3/auth/authenticate`.
    var authenticateRequest: AuthenticateRequest? {
        username.map { AuthenticateRequest(name: $0, password: password ?? "") }
    }
}

struct AuthenticateRequest: Encodable {
    var name: String
    var password: String
}
