import Glibc

/// A secret's text (an etcd password): kept out of every description, so it
/// cannot reach a log line, STATUS= or an error message by interpolation.
public struct Secret: Equatable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<secret>" }
}

/// How a process proves itself to etcd, resolved from `[Etcd]`: the CA that
/// signs etcd's certificate, a client certificate and key, an etcd user and
/// its password (read from `PasswordFile`). A relative path is looked up in
/// `$CREDENTIALS_DIRECTORY` when systemd set it (`LoadCredential=`: how a
/// root-owned secret reaches a `DynamicUser=` service), else next to the
/// settings file (`/etc/monitor`). A key or password file that other users
/// may access is refused, as ssh refuses such a private key. Empty when etcd
/// is plain HTTP without authentication.
public struct EtcdCredentials: Equatable, Sendable, CustomStringConvertible {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: Secret?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                username: String? = nil, password: Secret? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
    }

    public var isEmpty: Bool { self == EtcdCredentials() }

    /// For logs: what is used, never the password.
    public var description: String {
        var parts: [String] = []
        if let caFile { parts.append("CA \(caFile)") }
        if let certFile { parts.append("client certificate \(certFile)") }
        if let username { parts.append("user \(username)") }
        return parts.isEmpty ? "no TLS files, no user" : parts.joined(separator: ", ")
    }

    /// Resolves and reads the files `etcd` names. Errors name the settings
    /// file (a missing partner setting) or the credential file (missing,
    /// unreadable, too open) and what was expected.
    public static func resolve(_ etcd: EtcdSettings, settingsFile: String,
                               credentialsDirectory: String? = environment("CREDENTIALS_DIRECTORY")) throws -> EtcdCredentials {
        let base = credentialsDirectory.flatMap { $0.isEmpty ? nil : $0 } ?? directory(of: settingsFile)
        func path(_ value: String) -> String? {
            value.isEmpty ? nil : (value.hasPrefix("/") ? value : base + "/" + value)
        }
        func missing(_ key: String, _ partner: String) -> SettingsError {
            SettingsError(file: settingsFile, line: nil, message: "[Etcd] \(key) is set but \(partner) is not; expected both or neither")
        }
        var credentials = EtcdCredentials()
        switch (path(etcd.certFile), path(etcd.keyFile)) {
        case (nil, nil): break
        case (_?, nil): throw missing("CertFile", "KeyFile")
        case (nil, _?): throw missing("KeyFile", "CertFile")
        case let (cert?, key?):
            try checkReadable(cert)
            try checkSecret(key)
            (credentials.certFile, credentials.keyFile) = (cert, key)
        }
        if let ca = path(etcd.caFile) {
            try checkReadable(ca)
            credentials.caFile = ca
        }
        switch (etcd.username.isEmpty ? nil : etcd.username, path(etcd.passwordFile)) {
        case (nil, nil): break
        case (_?, nil): throw missing("Username", "PasswordFile")
        case (nil, _?): throw missing("PasswordFile", "Username")
        case let (user?, file?):
            credentials.username = user
            credentials.password = try readPassword(file)
        }
        return credentials
    }

    /// Passwords are one line; anything larger is not one.
    static let maxPasswordSize = 1024

    static func readPassword(_ path: String) throws -> Secret {
        try checkSecret(path)
        guard let text = try SettingsFile.readText(path) else {
            throw SettingsError(file: path, line: nil, message: "cannot open: \(SettingsFile.describe(ENOENT))")
        }
        guard text.utf8.count <= maxPasswordSize else {
            throw SettingsError(file: path, line: nil, message: "more than \(maxPasswordSize) bytes; expected one line, the password")
        }
        // By scalars: "\r\n" is one Character, which hasSuffix("\n") would not see.
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, last == "\n" || last == "\r" { scalars = scalars.dropLast() }
        let password = String(scalars)
        guard !password.isEmpty, !password.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw SettingsError(file: path, line: nil, message: password.isEmpty ? "empty; expected the password"
                                                                               : "more than one line; expected one line, the password")
        }
        return Secret(String(password))
    }

    /// A key or password file: it must exist, be a regular file, and give other
    /// users no access (group access is allowed: `root:monitor 0640`).
    static func checkSecret(_ path: String) throws {
        let mode = try fileMode(path)
        guard mode & 0o007 == 0 else {
            throw SettingsError(file: path, line: nil, message:
                "mode \(octal(mode & 0o777)) lets other users access this secret; expected no access for others "
                + "(chmod o-rwx \(path), e.g. 0600 or 0640)")
        }
        guard access(path, R_OK) == 0 else {
            throw SettingsError(file: path, line: nil, message: "cannot read: \(SettingsFile.describe(errno))")
        }
    }

    static func checkReadable(_ path: String) throws {
        _ = try fileMode(path)
        guard access(path, R_OK) == 0 else {
            throw SettingsError(file: path, line: nil, message: "cannot read: \(SettingsFile.describe(errno))")
        }
    }

    private static func fileMode(_ path: String) throws -> mode_t {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw SettingsError(file: path, line: nil, message: "cannot open: \(SettingsFile.describe(errno))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw SettingsError(file: path, line: nil, message: "not a regular file; expected a PEM or password file")
        }
        return status.st_mode
    }

    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }

    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
