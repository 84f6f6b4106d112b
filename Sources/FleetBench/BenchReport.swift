import FleetModel
import Foundation

/// What one bench run measured; written as JSON and summed up in one line.
public struct BenchReport: Sendable, Codable {
    public var nodes: Int
    public var ttl: Int64
    public var interval: Double
    /// From the server's start to the last node's ALIVE line.
    public var allAliveSeconds = 0.0
    /// From the server's start to its line saying the first read of every key is done.
    public var syncedSeconds = 0.0
    /// Over the steady window, in % of one core.
    public var serverCPUPercent = 0.0
    public var serverRSSMiB = 0.0
    public var serverPeakMiB = 0.0
    public var serverCPUMicrosecondsPerEvent = 0.0
    /// The server's CPU over the window per thread name, in % of one core: the
    /// main loop (named after the binary) against the watch thread.
    public var serverThreadCPUPercent: [String: Double] = [:]
    public var etcdCPUPercent = 0.0
    public var generatorCPUPercent = 0.0
    public var heartbeatPutsPerSecond = 0.0
    /// Growth of etcd's database over the window per heartbeat put, in bytes:
    /// the history a fleet adds until it is compacted.
    public var etcdBytesPerPut = 0.0
    public var keepalivesPerSecond = 0.0
    /// DEAD line minus the lease's expected expiry (last keepalive + TTL).
    public var dead = Summary()
    /// LEFT line minus the moment the clean stop began (registry mark, stopping put, revoke).
    public var left = Summary()
    public var missedTransitions = 0
    public var falseTransitions = 0
    public var falseExamples: [String] = []
    /// GET /metrics: the body's bytes, plain and gzipped, and the server's CPU
    /// per scrape in milliseconds (all threads; see `BenchRun.measureScrapes`).
    public var metricsBytes = 0
    public var metricsGzipBytes = 0
    public var metricsServerCPUMilliseconds = 0.0
    public var metricsGzipServerCPUMilliseconds = 0.0
    public var monitorctlStatusSeconds = 0.0
    public var monitorctlMaxRSSMiB = 0.0
    /// From SIGTERM to exit; -1 when it had to be killed.
    public var serverStopSeconds = 0.0
    public var counters = SimulatedFleet.Counters()

    init(nodes: Int, ttl: Int64, interval: Double) {
        self.nodes = nodes
        self.ttl = ttl
        self.interval = interval
    }

    /// `bench: nodes=1000 server_cpu=0.4% ... missed=0 false=0`
    public var line: String {
        func f(_ value: Double, _ places: Int = 2) -> String { FixedPoint.text(value, places: places) }
        // "monitor-serverd:4.1%,heartbeat_watch:0.7%", busiest first.
        let threads = serverThreadCPUPercent.sorted { $0.value > $1.value }
            .map { "\($0.key.replacingOccurrences(of: " ", with: "_")):\(f($0.value, 1))%" }.joined(separator: ",")
        return "bench: nodes=\(nodes) all_alive=\(f(allAliveSeconds))s (read=\(f(syncedSeconds))s) server_cpu=\(f(serverCPUPercent))% "
            + "server_threads=\(threads) "
            + "server_rss=\(f(serverRSSMiB, 1))MiB cpu_per_event=\(f(serverCPUMicrosecondsPerEvent, 0))us "
            + "dead_delay_median=\(f(dead.median, 3))s dead_delay_max=\(f(dead.max, 3))s "
            + "left_delay_max=\(f(left.max, 3))s metrics=\(metricsBytes)B/\(metricsGzipBytes)B_gzip "
            + "metrics_cpu=\(f(metricsServerCPUMilliseconds, 1))ms/\(f(metricsGzipServerCPUMilliseconds, 1))ms_gzip monitorctl_status=\(f(monitorctlStatusSeconds))s/"
            + "\(f(monitorctlMaxRSSMiB, 1))MiB server_stop=\(f(serverStopSeconds, 3))s "
            + "etcd_cpu=\(f(etcdCPUPercent, 1))% generator_cpu=\(f(generatorCPUPercent, 1))% "
            + "puts/s=\(f(heartbeatPutsPerSecond, 0)) etcd_db_per_put=\(f(etcdBytesPerPut, 0))B keepalives/s=\(f(keepalivesPerSecond, 0)) "
            + "errors=\(counters.errors) missed=\(missedTransitions) false=\(falseTransitions)"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

