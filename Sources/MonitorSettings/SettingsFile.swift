#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Settings {
    /// Reads the main file, then the drop-ins `<path>.d/*.conf` in byte order of their
    /// names; later assignments override earlier ones.
    ///
    /// - Parameter required: false for the default path, where a missing main file means
    ///   defaults; true for `--config PATH`, where a missing file is an error naming it.
    ///   A missing drop-in directory is always fine. A file that exists but cannot be
    ///   read (permissions, a directory) is always an error naming it.
    /// - Parameter program: who reads them; monitor-serverd takes `[Server]
    ///   EtcdUsername` and `EtcdPasswordFile` over `[Etcd] Username` and
    ///   `PasswordFile` when they are set. Only that program's secrets are read,
    ///   so an agent never needs (or sees) the server's password file.
    /// - Parameter resolvingCredentials: false leaves `etcd.credentials` empty,
    ///   for a caller whose flags replace them (monitorctl `--user`): a password
    ///   file the flags replace need not exist.
    /// - Throws: `SettingsError` for the first problem found; nothing is half-applied.
    public static func load(path: String = defaultPath, required: Bool,
                            program: MonitorProgram = .monitorctl, resolvingCredentials: Bool = true) throws -> Settings {
        var settings = Settings()
        if let text = try SettingsFile.readText(path) {
            settings = try parse(text, file: path, base: settings)
        } else if required {
            throw SettingsError(file: path, line: nil, message: "cannot open: \(SettingsFile.describe(ENOENT))")
        }
        for dropIn in try SettingsFile.dropIns(of: path) {
            // A drop-in removed since the directory was listed is skipped like one
            // never written.
            if let text = try SettingsFile.readText(dropIn) {
                settings = try parse(text, file: dropIn, base: settings)
            }
        }
        if program == .server {
            try settings.useServerIdentity(settingsFile: path)
        }
        if resolvingCredentials {
            settings.etcd.credentials = try EtcdCredentials.resolve(settings.etcd, settingsFile: path)
        }
        return settings
    }

    /// `[Server] EtcdUsername` and `EtcdPasswordFile` replace `[Etcd] Username`
    /// and `PasswordFile` (both or neither).
    mutating func useServerIdentity(settingsFile: String) throws {
        switch (server.etcdUsername.isEmpty, server.etcdPasswordFile.isEmpty) {
        case (true, true): return
        case (false, false): (etcd.username, etcd.passwordFile) = (server.etcdUsername, server.etcdPasswordFile)
        case (false, true), (true, false):
            let (set, unset) = server.etcdUsername.isEmpty ? ("EtcdPasswordFile", "EtcdUsername")
                                                           : ("EtcdUsername", "EtcdPasswordFile")
            throw SettingsError(file: settingsFile, line: nil,
                                message: "[Server] \(set) is set but \(unset) is not; expected both or neither")
        }
    }

    /// Applies the assignments in `text` on top of `base`; `file` only names the source
    /// in errors.
    public static func parse(_ text: String, file: String, base: Settings = Settings()) throws -> Settings {
        try SettingsParser.parse(text, file: file, base: base)
    }
}

/// The filesystem side of loading settings, in POSIX calls so that errors can say
/// exactly why a file could not be read.
enum SettingsFile {
    /// Settings files are a few hundred bytes; anything this large is a mistake
    /// (or /dev/zero) and is refused before it is read.
    static let maxSize = 1 << 20

    /// The file's text, or nil if it does not exist. Only a regular file of at
    /// most `maxSize` bytes is read: a FIFO, a device or a directory is refused at
    /// once (opened non-blocking, so a FIFO without a writer cannot hang start-up).
    static func readText(_ path: String) throws -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let error = errno
            if error == ENOENT { return nil }
            throw SettingsError(file: path, line: nil, message: "cannot open: \(describe(error))")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw SettingsError(file: path, line: nil, message: "cannot read: \(describe(errno))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw SettingsError(file: path, line: nil, message: "not a regular file (\(kind(status.st_mode))); expected a settings file")
        }
        guard status.st_size <= maxSize else {
            throw SettingsError(file: path, line: nil,
                                message: "\(status.st_size) bytes; a settings file is at most \(maxSize / 1024) KiB")
        }

        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                throw SettingsError(file: path, line: nil, message: "cannot read: \(describe(error))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[..<count])
            // It grew while being read.
            guard bytes.count <= maxSize else {
                throw SettingsError(file: path, line: nil, message: "more than \(maxSize / 1024) KiB; a settings file is at most that")
            }
        }
        return try decode(bytes, file: path)
    }

    /// `bytes` as UTF-8 text, or an error naming the first line that is not UTF-8.
    static func decode(_ bytes: [UInt8], file: String) throws -> String {
        if !isValidUTF8(bytes) {
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let bad = lines.firstIndex { !isValidUTF8($0) } ?? 0
            throw SettingsError(file: file, line: bad + 1, message: "invalid UTF-8; expected UTF-8 text")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The paths of `<path>.d/*.conf`: regular files (symlinks followed), hidden names
    /// skipped, sorted by the bytes of their names as systemd does.
    static func dropIns(of path: String) throws -> [String] {
        let directory = path + ".d"
        guard let handle = opendir(directory) else {
            let error = errno
            if error == ENOENT { return [] }
            throw SettingsError(file: directory, line: nil,
                                message: "cannot open drop-in directory: \(describe(error))")
        }
        defer { closedir(handle) }

        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), name.hasSuffix(".conf") else { continue }
            var status = stat()
            if stat(directory + "/" + name, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFREG else { continue }
            } else if errno == ENOENT {
                continue  // a dangling symlink or a file removed meanwhile
            }
            // Other stat failures are reported by `readText` with the file's name.
            names.append(name)
        }
        return names
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { directory + "/" + $0 }
    }

    /// "a directory", "a FIFO", ... for a refusal message.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a plain file"
        }
    }

    static func describe(_ error: Int32) -> String {
        String(cString: strerror(error))
    }

    private static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
