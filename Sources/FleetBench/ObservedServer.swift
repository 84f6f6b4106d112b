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
    /// When the line saying the first read is done (SYNCED) arrived.
    let synced = Locked<MonotonicInstant?>(nil)
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
        let lines = self.lines, logTail = self.logTail, synced = self.synced
        Thread.detachNewThread {
            var pending: [UInt8] = []
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { return }
                let now = MonotonicInstant.now()
                pending.append(contentsOf: chunk)
                // Lines are cut by index and the rest kept once per chunk: no
                // shifting of the buffer per line (10,000 ALIVE lines at start).
                var start = 0, parsed: [Line] = [], texts: [String] = []
                while let newline = pending[start...].firstIndex(of: 10) {
                    let text = String(decoding: pending[start..<newline], as: UTF8.self)
                    start = newline + 1
                    if let line = Self.transition(text, at: now) { parsed.append(line) }
                    if text.hasSuffix("event=SYNCED") { synced.withLock { $0 = now } }
                    texts.append(text)
                }
                pending.removeFirst(start)
                lines.withLock { $0.append(contentsOf: parsed) }
                logTail.withLock { $0 = Array(($0 + texts.suffix(20)).suffix(20)) }
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
