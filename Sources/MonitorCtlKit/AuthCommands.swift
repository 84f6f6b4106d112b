import ArgumentParser
import EtcdClient
import FleetModel
import Foundation
import Glibc

/// `monitorctl auth ...`: etcd users and roles with least privilege, so that a
/// node can write only its own heartbeat and registry entry (as Kubernetes'
/// NodeRestriction lets a kubelet write only its own Node and Lease).
struct AuthGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Create monitor's etcd roles and users (needs etcd's root user once authentication is on).",
        discussion: """
        Roles: monitor-server reads the whole prefix and writes only <prefix>/state/ and \
        <prefix>/leader; monitor-admin reads and writes the prefix (monitorctl's config and \
        forget); monitor-node-NODE writes only <prefix>/heartbeat/NODE and <prefix>/nodes/NODE \
        and reads only those, <prefix>/config/NODE and <prefix>/config/default (exact keys, \
        not prefixes: a prefix grant on heartbeat/worker1 would also cover worker10). \
        Passwords are random and written to 0600 files for delivery, never printed.
        """,
        subcommands: [AuthSetupCommand.self, AuthAddNodeCommand.self])

    @OptionGroup var global: GlobalOptions
}

/// The roles and users every fleet needs; safe to run again (existing users
/// keep their passwords).
struct AuthSetupCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create the monitor-server and monitor-admin roles and users (idempotent).")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Where new users' password files go (mode 0600; the directory is made 0700 if missing).",
                                                                valueName: "dir"))
    var outputDirectory = "."

    func execute(_ session: CtlSession) throws -> Int32 {
        let p = session.layout.prefix
        let client = session.client
        // Made owner-only when missing: it is about to hold passwords.
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CtlError.runtime("--output-dir \(outputDirectory): cannot create (\(error.localizedDescription))")
        }
        try session.etcd("creating role monitor-server") { c in
            try c.addRole("monitor-server")
            try c.grant(role: "monitor-server", .read, key: p + "/", prefix: true)
            try c.grant(role: "monitor-server", .readWrite, key: p + "/state/", prefix: true)
            try c.grant(role: "monitor-server", .readWrite, key: p + "/leader")
        }
        try session.etcd("creating role monitor-admin") { c in
            try c.addRole("monitor-admin")
            try c.grant(role: "monitor-admin", .readWrite, key: p + "/", prefix: true)
        }
        for user in ["monitor-server", "monitor-admin"] {
            try AuthUsers.ensure(user, role: user, client: client, session: session,
                                 file: outputDirectory + "/\(user).password", rotate: false)
        }
        session.output.line("roles monitor-server and monitor-admin grant \(p)/ as described in `monitorctl auth --help`; "
                            + "add nodes with `monitorctl auth add-node NODE`")
        return CtlExitCode.success
    }
}

/// One node's role and user: its own keys, exact.
struct AuthAddNodeCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-node",
        abstract: "Create the role and user monitor-node-NODE; its password goes to a 0600 file.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The node name (its [Agent] NodeName).", valueName: "node"))
    var node: String

    @Option(name: .long, help: ArgumentHelp("Password file to write (default ./monitor-node-NODE.password).",
                                            valueName: "path"))
    var output: String?

    @Flag(name: .long, help: "Give an existing user a new password.")
    var rotate = false

    func validate() throws {
        try CtlSession.validate(target: node, allowDefault: false)
        if CtlSession.wildcardWords.contains(node) {
            throw ValidationError("'\(node)' is a wildcard word, not a node name: each node gets its own user")
        }
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        let layout = session.layout
        let role = "monitor-node-\(node)"
        try session.etcd("creating role \(role)") { c in
            try c.addRole(role)
            try c.grant(role: role, .readWrite, key: layout.heartbeat(node))
            try c.grant(role: role, .readWrite, key: layout.registry(node))
            try c.grant(role: role, .read, key: layout.config(node))
            try c.grant(role: role, .read, key: layout.defaultConfig)
        }
        try AuthUsers.ensure(role, role: role, client: session.client, session: session,
                             file: output ?? "./\(role).password", rotate: rotate)
        session.output.line("node \(node): set [Etcd] Username=\(role) and PasswordFile= on it "
                            + "(with systemd: LoadCredential=, see the README's \"Securing etcd\")")
        return CtlExitCode.success
    }
}

/// Users with random passwords written to files for delivery.
enum AuthUsers {
    /// Creates `user` with a new random password written to `file` (0600,
    /// never overwritten), grants it `role`; an existing user keeps its
    /// password unless `rotate`. The file is created before etcd is changed,
    /// so a file that cannot be written never leaves a user whose password
    /// nobody has.
    static func ensure(_ user: String, role: String, client: EtcdClient, session: CtlSession, file: String,
                       rotate: Bool) throws {
        let exists = try session.etcd("looking up user \(user)") { try $0.userExists(user) }
        if exists && !rotate {
            session.output.line("user \(user): exists, password unchanged (--rotate for a new one)")
        } else {
            let password = newPassword()
            let secret = try SecretFile(creating: file)
            do {
                if exists {
                    try session.etcd("changing the password of \(user)") { try $0.changePassword(user: user, password: password) }
                } else {
                    let created = try session.etcd("creating user \(user)") { try $0.addUser(user, password: password) }
                    guard created else { throw CtlError.runtime("user \(user) was created by someone else meanwhile; run again") }
                }
                try secret.write(password)
            } catch {
                secret.discard()
                throw error
            }
            session.output.line("user \(user): \(exists ? "new password" : "created"), password in \(file) (mode 0600)")
        }
        try session.etcd("granting role \(role) to \(user)") { try $0.grant(user: user, role: role) }
    }

    /// 24 random bytes (from the kernel's CSPRNG), base64url: 32 characters.
    static func newPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}

/// A new password file, readable by its owner only: created (never replacing
/// one) before etcd is changed, written once the password is in etcd, removed
/// if that failed. Owns its descriptor until `write` or `discard`.
final class SecretFile {
    let path: String
    private var fd: Int32

    init(creating path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CtlError.runtime("\(path): cannot create (\(String(cString: strerror(errno)))); "
                                   + "expected a new file (remove the old one or choose --output)")
        }
    }

    func write(_ text: String) throws {
        let bytes = Array((text + "\n").utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw CtlError.runtime("\(path): cannot write (\(String(cString: strerror(errno))))")
        }
        close(fd)
        fd = -1
    }

    func discard() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(path)
    }
}
