import Glibc
import MonitorSettings

/// Asks for a password on the controlling terminal with echo off, as sudo and
/// etcdctl do; never from stdin (a script's pipe) or the command line.
enum PasswordPrompt {
    static func ask(for user: String) throws -> Secret {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw CtlError.usage("--user \(user): no terminal to ask the password on; give it with --password-file")
        }
        defer { close(fd) }
        var saved = termios()
        let hasTermios = tcgetattr(fd, &saved) == 0
        if hasTermios {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if hasTermios { tcsetattr(fd, TCSAFLUSH, &saved) }
            _ = write(fd, "\n", 1)
        }
        let prompt = Array("Password for etcd user \(user): ".utf8)
        _ = write(fd, prompt, prompt.count)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n"), line.count < 1024 { line.append(byte) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard !line.isEmpty else { throw CtlError.usage("--user \(user): empty password") }
        return Secret(String(decoding: line, as: UTF8.self))
    }
}
