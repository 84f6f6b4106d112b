import Concurrency
import FleetModel
import Glibc
import HTTPServer
import JSONStream

/// What monitor-serverd answers over HTTP, by path; runs on the listener's
/// threads and reads only the `FleetSnapshotBox` (never the loop's state), so
/// a scrape costs the loop nothing. Holds no state of its own.
public struct FleetEndpoints: Sendable {
    public let box: FleetSnapshotBox

    public init(box: FleetSnapshotBox) { self.box = box }

    public func answer(_ path: String) -> HTTPResponse {
        let now = WallClock.now()
        switch path {
        case "/":
            return HTTPResponse(status: 200, contentType: .html, body: FleetPage.html)
        case "/metrics", "/api/fleet", "/api/server", "/healthz":
            guard let snapshot = box.read() else { return .text(503, "starting: no view published yet\n") }
            switch path {
            case "/metrics":
                return HTTPResponse(status: 200, contentType: .prometheus,
                                    body: MetricsExposition.render(snapshot, process: Self.process(), now: now),
                                    compressible: true)
            case "/api/fleet":
                return HTTPResponse(status: 200, contentType: .json,
                                    body: FleetJSON.document(snapshot.view, leader: snapshot.leader,
                                                             staleAfterRounds: snapshot.staleAfterRounds),
                                    compressible: true)
            case "/api/server":
                return HTTPResponse(status: 200, contentType: .json, body: Self.server(snapshot, now: now))
            default:
                if let reason = snapshot.unhealthy(now: now) { return .text(503, reason + "\n") }
                return .text(200, "ok\n")
            }
        default:
            return .text(404, "not found; served: / /metrics /api/fleet /api/server /healthz\n")
        }
    }

    /// The server's own state for the page: whether to trust what it shows.
    static func server(_ s: FleetSnapshot, now: Double) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.object { w in
            w.key("frozen_since"); w.number(s.frozenSince)
            w.key("leader"); w.string(s.leader.map { "\($0.server) (pid \($0.pid))" })
            w.key("leading"); w.bool(s.leading)
            w.key("published_at"); w.number(s.publishedAt)
            w.key("synced"); w.bool(s.synced)
            w.key("time"); w.number(now)
            w.key("unhealthy"); w.string(s.unhealthy(now: now))
            w.key("watch_connected"); w.bool(s.watchConnected == true)
        }
        return w.takeLine()
    }

    /// This process's CPU time, resident memory and start time, from
    /// /proc/self (the unit's ProcSubset=pid hides /proc/stat, so the start is
    /// placed on the wall clock through CLOCK_BOOTTIME, the base of `starttime`).
    static func process() -> MetricsExposition.Process? {
        guard let stat = read("/proc/self/stat"), let close = stat.lastIndex(of: ")"),
              let statm = read("/proc/self/statm") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let pages = statm.split(separator: " ")
        // After the command: utime, stime and starttime are fields 14, 15 and 22 (1-based).
        guard fields.count > 19, pages.count > 1, let utime = Double(fields[11]), let stime = Double(fields[12]),
              let start = Double(fields[19]), let rss = Double(pages[1]) else { return nil }
        var boot = timespec()
        clock_gettime(CLOCK_BOOTTIME, &boot)
        let sinceBoot = Double(boot.tv_sec) + Double(boot.tv_nsec) / 1e9
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return .init(cpuSeconds: (utime + stime) / hertz, residentBytes: rss * Double(sysconf(Int32(_SC_PAGESIZE))),
                     startTime: WallClock.now() - sinceBoot + start / hertz)
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
