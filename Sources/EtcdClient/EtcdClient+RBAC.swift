import JSONStream

/// etcd's role-based access control through the JSON gateway: what
/// `monitorctl auth setup` and `auth add-node` need, nothing more. Every call
/// needs the root user once authentication is on. "Already exists" answers
/// are not errors here: setting up twice gives the same result.
extension EtcdClient {
    /// What a role may do on a key or a prefix.
    public enum Permission: String, Sendable {
        case read = "READ", write = "WRITE", readWrite = "READWRITE"
    }

    /// Creates `name` unless it exists; true when it was created.
    @discardableResult
    public func addRole(_ name: String) throws -> Bool {
        try created { _ = try call("/v3/auth/role/add", NameRequest(name: name)) }
    }

    /// Lets `role` do `permission` on `key` exactly, or on every key starting
    /// with it when `prefix` is true. Granting twice is harmless.
    public func grant(role: String, _ permission: Permission, key: String, prefix: Bool = false) throws {
        let perm = PermissionBody(permType: permission.rawValue, key: JSONValue.base64(key),
                                  rangeEnd: prefix ? JSONValue.base64(JSONValue.prefixEnd(key)) : nil)
        _ = try call("/v3/auth/role/grant", RoleGrantRequest(name: role, perm: perm))
    }

    /// Creates user `name` with `password` unless it exists; true when created
    /// (an existing user keeps its password).
    @discardableResult
    public func addUser(_ name: String, password: String) throws -> Bool {
        try created { _ = try call("/v3/auth/user/add", UserAddRequest(name: name, password: password)) }
    }

    /// Whether user `name` exists.
    public func userExists(_ name: String) throws -> Bool {
        do {
            _ = try call("/v3/auth/user/get", UserGetRequest(name: name))
            return true
        } catch let EtcdError.rejected(_, message) where message.contains("user name not found") {
            return false
        }
    }

    public func changePassword(user: String, password: String) throws {
        _ = try call("/v3/auth/user/changepw", UserAddRequest(name: user, password: password))
    }

    public func grant(user: String, role: String) throws {
        _ = try call("/v3/auth/user/grant", UserGrantRequest(user: user, role: role))
    }

    private func created(_ body: () throws -> Void) throws -> Bool {
        do {
            try body()
            return true
        } catch let EtcdError.rejected(_, message) where message.contains("already exists") {
            return false
        }
    }
}

struct NameRequest: Encodable {
    var name: String
}

struct PermissionBody: Encodable {
    var permType: String
    var key: String
    var rangeEnd: String?
    private enum CodingKeys: String, CodingKey { case permType, key, rangeEnd = "range_end" }
}

struct RoleGrantRequest: Encodable {
    var name: String
    var perm: PermissionBody
}

struct UserAddRequest: Encodable {
    var name: String
    var password: String
}

struct UserGetRequest: Encodable {
    var name: String
}

struct UserGrantRequest: Encodable {
    var user: String
    var role: String
}
