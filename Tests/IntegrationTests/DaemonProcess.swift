import Foundation

/// One of our executables run as a child process with its own environment, its
/// stderr collected line by line (the daemons log plain lines there when not
/// under journald). Killed on deinit if still running.
// @unchecked: `buffer` and `lines` are only touched under `lock`; the rest is immutable.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    private let pipe = Pipe()
    private let lock = NSCondition()
    private var buffer = Data()
    private(set) var lines: [(time: Date, text: String)] = []

    /// The directory holding the built executables (next to the test bundle).
    static var binDir: URL {
        let bundle = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        var dir = bundle.deletingLastPathComponent()
        if dir.lastPathComponent == "Contents" { dir = dir.deletingLastPathComponent().deletingLastPathComponent() }
        return dir
    }

    static func binary(_ name: String) -> String { binDir.appendingPathComponent(name).path }

    init(_ name: String, arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary(name))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["MONITOR_LOG"] = "stderr"
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        env.removeValue(forKey: "WATCHDOG_PID")
        env.removeValue(forKey: "JOURNAL_STREAM")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = pipe
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.received(data)
        }
        try process.run()
    }

    deinit {
        pipe.fileHandleForReading.readabilityHandler = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    private func received(_ data: Data) {
        guard !data.isEmpty else { return }
        lock.lock()
        buffer.append(data)
        while let nl = buffer.firstIndex(of: 0x0a) {
            let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex...nl)
            lines.append((Date(), line))
        }
        lock.broadcast()
        lock.unlock()
    }

    var output: String {
        lock.lock(); defer { lock.unlock() }
        return lines.map(\.text).joined(separator: "\n")
    }

    /// Waits for a line containing `text` (after `after`); returns when it was seen.
    @discardableResult
    func waitForLine(_ text: String, after: Date = .distantPast, timeout: Double = 10) throws -> Date {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock(); defer { lock.unlock() }
        while true {
            if let hit = lines.first(where: { $0.time >= after && $0.text.contains(text) }) { return hit.time }
            if !lock.wait(until: deadline) {
                throw TestFailure("no line containing \"\(text)\" within \(timeout)s; output so far:\n\(lines.map(\.text).joined(separator: "\n"))")
            }
        }
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit; returns the status, nil if still running after `timeout`.
    func waitExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A datagram socket standing in for systemd's notify socket: the child gets
/// NOTIFY_SOCKET pointing at it and every sd_notify message is collected.
// @unchecked: `messages` and `closed` are only touched under `lock`; the rest is immutable.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSCondition()
    private(set) var messages: [(time: Date, text: String)] = []
    private var closed = false

    init() throws {
        path = NSTemporaryDirectory() + "notify-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { throw TestFailure("bind \(path): errno \(errno)") }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let t = Thread { [self] in
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                lock.lock(); let stop = closed; lock.unlock()
                if stop { return }
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 {
                    lock.lock()
                    messages.append((Date(), String(decoding: buf[0..<n], as: UTF8.self)))
                    lock.broadcast()
                    lock.unlock()
                }
            }
        }
        t.start()
    }

    deinit { close() }

    func close() {
        lock.lock()
        if !closed { closed = true; Foundation.close(fd); unlink(path) }
        lock.unlock()
    }

    @discardableResult
    func waitFor(_ predicate: (String) -> Bool, after: Date = .distantPast, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock(); defer { lock.unlock() }
        while true {
            if let m = messages.first(where: { $0.time >= after && predicate($0.text) }) { return m.text }
            if !lock.wait(until: deadline) {
                throw TestFailure("no matching notify message in \(timeout)s; got: \(messages.map(\.text))")
            }
        }
    }

    func all(after: Date = .distantPast) -> [String] {
        lock.lock(); defer { lock.unlock() }
        return messages.filter { $0.time >= after }.map(\.text)
    }
}
