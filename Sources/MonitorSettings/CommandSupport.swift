import Glibc

/// What every executable does before anything else, in one place.
public enum CommandSupport {
    /// EX_CONFIG: systemd shows it as "status=78/CONFIG".
    public static let configExitCode: Int32 = 78

    /// `--check-config`: loads the settings as a start would and exits, 0 with
    /// one line naming the file when they are valid, else 78 with the one precise
    /// message (what `ExecReload=` runs first, as `nginx -t` or `sshd -t`).
    ///
    /// systemd 252 (Debian 12) gives the commands after a `DynamicUser=`
    /// service's first one, `ExecReload=` among them, no access to its
    /// `LoadCredential=` directory (systemd#24291). Then the files in it are
    /// left to the daemon, which reads them again on SIGHUP and keeps its
    /// running settings if they fail; everything else is checked.
    public static func checkSettingsAndExit(program: MonitorProgram, configOption: String?) -> Never {
        let credentials = EtcdCredentials.environment("CREDENTIALS_DIRECTORY") ?? ""
        let blind = !credentials.isEmpty && access(credentials, R_OK | X_OK) != 0 && errno == EACCES
        _ = loadSettingsOrExit(program: program, configOption: configOption, resolvingCredentials: !blind)
        var line = "\(program.name): settings in \(configOption ?? Settings.defaultPath) are valid"
        if blind {
            line += "; \(credentials) is not readable by this command (systemd gives ExecReload= no access to "
                + "LoadCredential= with DynamicUser=), so the etcd credentials are checked by the daemon when it reloads"
        }
        line += "\n"
        line.withUTF8 { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        exit(0)
    }

    /// Loads `--config PATH` (required to exist) or the default file (optional);
    /// on any settings error prints the one precise message and exits 78.
    public static func loadSettingsOrExit(program: MonitorProgram, configOption: String?,
                                          resolvingCredentials: Bool = true) -> Settings {
        do {
            return try Settings.load(path: configOption ?? Settings.defaultPath, required: configOption != nil,
                                     program: program, resolvingCredentials: resolvingCredentials)
        } catch {
            var line = "\(program.name): \(error)\n"
            // write(2), not fputs(stderr): the C global is not concurrency-safe in Swift 6.
            line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            exit(configExitCode)
        }
    }

    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        // The last byte stays 0: a name of 256 bytes or more is truncated, not unterminated.
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
