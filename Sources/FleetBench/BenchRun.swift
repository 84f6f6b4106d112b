import Concurrency
import EtcdClient
import EtcdTestSupport
import FleetModel
import Foundation

/// One `make bench`: its own etcd on loopback, N simulated agents, the real
/// monitor-serverd, then 1 % of the nodes killed and 1 % stopped cleanly.
/// Measures what the issue asks (time to all-alive, server CPU and RSS over a
/// steady window, CPU per heartbeat event, DEAD and LEFT delays, missed and
/// false transitions, monitorctl status, etcd's and the generator's CPU) and
/// cleans up everything it started, also when it fails.
public struct BenchRun: Sendable {
    public struct Options: Sendable {
        public var nodes = 1000
        public var ttl: Int64 = 30
        public var interval: Double = 30
        /// Seconds of steady state measured after all nodes are alive.
        public var window: Double = 30
        public var shards = 8
        /// Where the monitor-serverd and monitorctl binaries are.
        public var binaries: String
        public init(binaries: String) { self.binaries = binaries }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    public func run(log: (String) -> Void) throws -> BenchReport {
        let etcd = try EtcdCluster()
        let etcdCleanup = BenchCleanup.register { etcd.stop() }
        defer { etcd.stop(); BenchCleanup.done(etcdCleanup) }
        let layout = KeyLayout(prefix: "/bench")
        let config = etcd.baseDir + "/monitor.conf"
        let httpPort = try EtcdCluster.freePort()
        try """
        [Etcd]
        Endpoints=\(etcd.endpoints.joined(separator: ","))
        KeyPrefix=/bench
        [Server]
        SummaryIntervalSec=0
        Listen=127.0.0.1:\(httpPort)
        [Log]
        Level=info
        """.write(toFile: config, atomically: true, encoding: .utf8)
        var report = BenchReport(nodes: options.nodes, ttl: options.ttl, interval: options.interval)

        log("registering \(options.nodes) simulated nodes (TTL \(options.ttl) s, interval \(Interval.text(options.interval)))")
        let fleet = SimulatedFleet(nodes: options.nodes, shards: options.shards, ttl: options.ttl,
                                   interval: options.interval, layout: layout, endpoints: etcd.endpoints)
        let fleetCleanup = BenchCleanup.register { fleet.stop() }
        defer { fleet.stop(); BenchCleanup.done(fleetCleanup) }
        try fleet.start()

        log("starting monitor-serverd")
        let started = MonotonicInstant.now()
        let server = try ObservedServer(binary: options.binaries + "/monitor-serverd", config: config)
        var serverStopped = false
        let serverCleanup = BenchCleanup.register { _ = server.stop() }
        defer {
            if !serverStopped { _ = server.stop() }
            BenchCleanup.done(serverCleanup)
        }
        guard let allAlive = server.waitForAlive(options.nodes, timeout: 60 + Double(options.nodes) / 500) else {
            throw BenchError(message: "the server did not report every node ALIVE; its last lines:\n"
                             + server.lastLogLines.joined(separator: "\n"))
        }
        report.allAliveSeconds = allAlive.secondsSince(started)
        report.syncedSeconds = server.synced.withLock { $0 }?.secondsSince(started) ?? 0
        log("all \(options.nodes) nodes ALIVE \(FixedPoint.text(report.allAliveSeconds, places: 2)) s after the server started")

        // Steady state: rounds and keepalives only.
        let etcdPid = etcd.pid(member: 0) ?? 0
        let threads0 = ProcessStats.threadCPUSeconds(pid: server.pid)
        let statusClient = EtcdClient(endpoints: etcd.endpoints, requestTimeout: 5)
        let db0 = (try? statusClient.memberStatus(endpoint: etcd.endpoints[0]))?.dbSize ?? 0
        let (server0, etcd0, self0, counters0, t0) = (ProcessStats.read(pid: server.pid), ProcessStats.read(pid: etcdPid),
                                                      ProcessStats.selfCPUSeconds(), fleet.counters, MonotonicInstant.now())
        log("steady window of \(Interval.text(options.window))")
        Thread.sleep(forTimeInterval: options.window)
        let (server1, etcd1, self1, counters1, t1) = (ProcessStats.read(pid: server.pid), ProcessStats.read(pid: etcdPid),
                                                      ProcessStats.selfCPUSeconds(), fleet.counters, MonotonicInstant.now())
        let wall = t1.secondsSince(t0)
        let db1 = (try? statusClient.memberStatus(endpoint: etcd.endpoints[0]))?.dbSize ?? 0
        report.serverThreadCPUPercent = ProcessStats.threadCPUSeconds(pid: server.pid).mapValues { $0 / wall * 100 }
            .merging(threads0.mapValues { -$0 / wall * 100 }, uniquingKeysWith: +).filter { $0.value > 0.05 }
        report.serverCPUPercent = 100 * ((server1?.cpuSeconds ?? 0) - (server0?.cpuSeconds ?? 0)) / wall
        report.serverRSSMiB = server1?.rssMiB ?? 0
        report.serverPeakMiB = server1?.peakMiB ?? 0
        report.etcdCPUPercent = 100 * ((etcd1?.cpuSeconds ?? 0) - (etcd0?.cpuSeconds ?? 0)) / wall
        report.generatorCPUPercent = 100 * (self1 - self0) / wall
        report.heartbeatPutsPerSecond = Double(counters1.puts - counters0.puts) / wall
        report.keepalivesPerSecond = Double(counters1.keepalives - counters0.keepalives) / wall
        let events = max(1, counters1.puts - counters0.puts)
        report.etcdBytesPerPut = Double(db1 - db0) / Double(events)
        report.serverCPUMicrosecondsPerEvent = 1e6 * ((server1?.cpuSeconds ?? 0) - (server0?.cpuSeconds ?? 0)) / Double(events)

        try measureScrapes(port: httpPort, server: server.pid, into: &report)
        log("GET /metrics: \(report.metricsBytes) bytes (\(report.metricsGzipBytes) gzipped), "
            + "\(FixedPoint.text(report.metricsServerCPUMilliseconds, places: 1)) ms of server CPU per scrape")

        // 1 % killed, 1 % stopped cleanly (at least one each).
        let share = max(1, options.nodes / 100)
        let shuffled = fleet.names.shuffled()
        let killed = Array(shuffled.prefix(share)), stopped = Array(shuffled.dropFirst(share).prefix(share))
        let marked = MonotonicInstant.now()
        log("killing \(killed.count) nodes, stopping \(stopped.count) cleanly")
        fleet.end(killed, kill: true)
        fleet.end(stopped, kill: false)
        let deadline = marked + Double(options.ttl) + 15
        let expectedEnds = killed.count + stopped.count
        while MonotonicInstant.now() < deadline {
            let ended = server.transitions.filter { $0.time >= marked && ($0.event == "DEAD" || $0.event == "LEFT") }
            if ended.count >= expectedEnds { break }
            usleep(50_000)
        }
        Thread.sleep(forTimeInterval: 2) // anything more would be false

        let fates = Dictionary(fleet.fates.map { ($0.node, $0.expected) }, uniquingKeysWith: { first, _ in first })
        // Every line after the last first-seen ALIVE (lines read together share a time).
        let after = server.transitions.filter { $0.time > allAlive }
        var deadDelays: [Double] = [], leftDelays: [Double] = []
        let killedSet = Set(killed), stoppedSet = Set(stopped)
        for line in after {
            if line.event == "DEAD", killedSet.contains(line.node), let expiry = fates[line.node] {
                deadDelays.append(line.time.secondsSince(expiry))
            } else if line.event == "LEFT", stoppedSet.contains(line.node), let revoked = fates[line.node] {
                leftDelays.append(line.time.secondsSince(revoked))
            } else {
                report.falseTransitions += 1
                report.falseExamples.append("\(line.node) \(line.event)")
            }
        }
        report.missedTransitions = max(0, killed.count - deadDelays.count) + max(0, stopped.count - leftDelays.count)
        report.dead = Summary(deadDelays)
        report.left = Summary(leftDelays)

        let status = try Self.timed(options.binaries + "/monitorctl", ["status", "-o", "json", "--config", config])
        report.monitorctlStatusSeconds = status.seconds
        report.monitorctlMaxRSSMiB = status.maxRSSMiB
        report.counters = fleet.counters
        report.serverStopSeconds = server.stop() ?? -1
        serverStopped = true
        return report
    }

    /// Scrapes /metrics with curl, plain and gzipped, five times each: the
    /// server's CPU per scrape (from /proc, all its threads) and the sizes.
    func measureScrapes(port: Int, server pid: Int32, into report: inout BenchReport) throws {
        let url = "http://127.0.0.1:\(port)/metrics"
        func size(_ extra: [String]) throws -> Int {
            let out = try Self.output("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{size_download}"] + extra + [url])
            return Int(out) ?? 0
        }
        let cpu0 = ProcessStats.read(pid: pid)?.cpuSeconds ?? 0
        for _ in 0..<5 { report.metricsBytes = try size([]) }
        let cpu1 = ProcessStats.read(pid: pid)?.cpuSeconds ?? 0
        for _ in 0..<5 { report.metricsGzipBytes = try size(["-H", "Accept-Encoding: gzip"]) }
        let cpu2 = ProcessStats.read(pid: pid)?.cpuSeconds ?? 0
        // The loop's own work over the same moments is in serverCPUPercent; at
        // 10,000 nodes it is a few % of a core, so the figure errs high by that.
        report.metricsServerCPUMilliseconds = 1000 * (cpu1 - cpu0) / 5
        report.metricsGzipServerCPUMilliseconds = 1000 * (cpu2 - cpu1) / 5
    }

    /// Runs a child to completion and returns its standard output.
    static func output(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a child to completion; its wall time and peak RSS (wait4's ru_maxrss).
    static func timed(_ path: String, _ arguments: [String]) throws -> (seconds: Double, maxRSSMiB: Double) {
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let start = MonotonicInstant.now()
        guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else {
            throw BenchError(message: "cannot run \(path)")
        }
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        return (MonotonicInstant.now().secondsSince(start), Double(usage.ru_maxrss) / 1024)
    }
}

/// Median and maximum of some delays, in seconds.
public struct Summary: Sendable, Codable {
    public var count = 0
    public var median = 0.0
    public var max = 0.0

    init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        max = sorted.last ?? 0
    }
    init() {}
}
