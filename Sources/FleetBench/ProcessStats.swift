import Foundation

/// CPU and memory of a process, read from /proc: what the bench reports for the
/// server, etcd and itself.
public struct ProcessStats: Sendable {
    /// utime + stime in seconds.
    public let cpuSeconds: Double
    /// VmRSS and VmHWM in MiB.
    public let rssMiB: Double
    public let peakMiB: Double

    /// Nil when the process is gone.
    public static func read(pid: Int32) -> ProcessStats? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        // Fields after the command name, which is in parentheses and may hold spaces.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        func kib(_ key: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
            return Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return ProcessStats(cpuSeconds: (utime + stime) / hz, rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024)
    }

    /// CPU seconds per thread name (threads of one name summed), from
    /// /proc/<pid>/task: shows which of the server's threads does the work.
    public static func threadCPUSeconds(pid: Int32) -> [String: Double] {
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        var out: [String: Double] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let name = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { continue }
            out[name, default: 0] += (utime + stime) / hz
        }
        return out
    }

    /// This process's CPU seconds (all threads).
    public static func selfCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
