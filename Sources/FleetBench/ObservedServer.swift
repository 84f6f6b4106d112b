import Concurrency
import Foundation

/// The real monitor-serverd as a child process, with every transition line it
/// logs collected with its arrival time (monotonic), for delays and counts.
/// Ends with `stop()`: SIGTERM, and how long it took to exit.
public final class ObservedServer: Sendable {
    public struct Line: Sendable {
        public let time: MonotonicInstant
        public let node: String
        public let event: String
    }

    private let process: Locked<Process>
    public let pid: Int32
    private let lines = Locked<[Line]>([])
    private let logTail = Locked<[String]>([])

    public init(binary: String, config: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment["MONITOR_LOG"] = "stderr"
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] { environment[name] = nil }
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        pid = process.processIdentifier
        self.process = Locked(process)
        let reader = pipe.fileHandleForReading
        let lines = self.lines, logTail = self.logTail
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { return }
                let now = MonotonicInstant.now()
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 10) {
                    let text = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    if let line = Self.transition(text, at: now) { lines.withLock { $0.append(line) } }
                    logTail.withLock { $0.append(text); if $0.count > 20 { $0.removeFirst() } }
                }
            }
        }
    }

    /// "... node bench00042 DEAD (lease expired) ..." -> (bench00042, DEAD).
    static func transition(_ text: String, at time: MonotonicInstant) -> Line? {
        guard let range = text.range(of: ": node ") else { return nil }
        let words = text[range.upperBound...].split(separator: " ", maxSplits: 2)
        guard words.count >= 2, ["ALIVE", "STALE", "LEFT", "DEAD"].contains(String(words[1])) else { return nil }
        return Line(time: time, node: String(words[0]), event: String(words[1]))
    }

    public var transitions: [Line] { lines.withLock { $0 } }

    public var lastLogLines: [String] { logTail.withLock { $0 } }

    /// Waits until `count` ALIVE lines arrived; returns when the last one came, nil on timeout.
    public func waitForAlive(_ count: Int, timeout: Double) -> MonotonicInstant? {
        let deadline = MonotonicInstant.now() + timeout
        while MonotonicInstant.now() < deadline {
            let alive = lines.withLock { $0.filter { $0.event == "ALIVE" } }
            if alive.count >= count { return alive.map(\.time).max() }
            usleep(20_000)
        }
        return nil
    }

    /// SIGTERM; returns the seconds until it exited (nil if it had to be killed after 10 s).
    public func stop() -> Double? {
        let process = self.process.withLock { $0 }
        guard process.isRunning else { return 0 }
        let start = MonotonicInstant.now()
        process.terminate()
        while process.isRunning {
            if MonotonicInstant.now().secondsSince(start) > 10 {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            usleep(2_000)
        }
        return MonotonicInstant.now().secondsSince(start)
    }
}
