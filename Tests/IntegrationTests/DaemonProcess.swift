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

/// Runs `executable` to its end with exactly `environment`; its exit status and
/// its stdout and stderr together.
func runToEnd(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.environment = environment
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, out)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
