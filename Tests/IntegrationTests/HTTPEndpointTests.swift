import Concurrency
import EtcdTestSupport
import Foundation
import SystemdTestKit
import XCTest

/// monitor-serverd's HTTP listener against a real etcd, real agents and the
/// real binary: what each path answers, bad and hostile requests, and that no
/// client can delay a verdict or a watchdog pet.
final class HTTPEndpointTests: DaemonTestCase {
    /// A server listening on a free port; returns it and the port.
    func startListeningServer(environment: [String: String] = [:]) throws -> (DaemonProcess, Int) {
        let port = try EtcdCluster.freePort()
        let config = try settingsFile(extra: "[Server]\nListen=127.0.0.1:\(port)\n")
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", config], environment: environment)
        try server.waitForLine("serving /metrics and the fleet page on http://127.0.0.1:\(port)/")
        try server.waitForLine("watching from")
        return (server, port)
    }

    func testPathsAnswerWhatTheySayAndMetricsPassPromtool() throws {
        let (server, port) = try startListeningServer()
        let agents = [try startAgent(node: "h1"), try startAgent(node: "h2")]
        try server.waitForLine("node h1 ALIVE")
        try server.waitForLine("node h2 ALIVE")
        // A name no agent of ours writes (a quote, a backslash, a line feed), by another writer.
        _ = try client.put("\(prefix)/heartbeat/we\"ird\\\n", #"{"status":"alive","ts":1}"#)
        // The snapshot follows within 0.25 s, the first round with its counters within about 1 s.
        try eventually("h1's counters in /metrics", timeout: 4) {
            try HTTPProbe.request(port: port, "/metrics").text.contains("monitor_node_disk_written_bytes_total{node=\"h1\"}")
        }
        let metrics = try HTTPProbe.request(port: port, "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.headers.contains("Content-Type: text/plain; version=0.0.4"), metrics.headers)
        XCTAssertTrue(metrics.text.contains("monitor_node_up{node=\"h1\"} 1\n"))
        XCTAssertTrue(metrics.text.contains(#"monitor_node_up{node="we\"ird\\\n"} 0"#), metrics.text)
        XCTAssertTrue(metrics.text.contains("monitor_nodes{state=\"alive\"} 2\n"))
        XCTAssertTrue(metrics.text.contains("monitor_server_leader 1\n"))
        try checkWithPromtool(metrics.body)

        let gzipped = try HTTPProbe.request(port: port, "/metrics", headers: "Accept-Encoding: gzip\r\n")
        // Small fleets are sent as they are; the 10,000-node figure is in the README.
        XCTAssertEqual(gzipped.status, 200)

        let health = try HTTPProbe.request(port: port, "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.text, "ok\n")
        XCTAssertEqual(try HTTPProbe.request(port: port, "/nope").status, 404)
        let post = try HTTPProbe.request(port: port, "/metrics", method: "POST", headers: "Content-Length: 0\r\n")
        XCTAssertEqual(post.status, 405)
        XCTAssertTrue(post.headers.contains("Allow: GET, HEAD"), post.headers)
        let huge = try HTTPProbe.request(port: port, "/metrics", headers: "X-Huge: \(String(repeating: "a", count: 40_000))\r\n")
        XCTAssertTrue((400..<500).contains(huge.status), "huge header: \(huge.status)")
        let page = try HTTPProbe.request(port: port, "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("<title>monitor: fleet</title>"))
        XCTAssertFalse(page.text.contains("http://") || page.text.contains("https://"), "no external assets")

        // /api/fleet has monitorctl status -o json's shape.
        let api = try JSONSerialization.jsonObject(with: try HTTPProbe.request(port: port, "/api/fleet").body) as? [String: Any]
        let ctl = try monitorctlStatusJSON()
        XCTAssertEqual(Set(try XCTUnwrap(api).keys), Set(ctl.keys))
        let apiNode = try XCTUnwrap((api?["nodes"] as? [[String: Any]])?.first)
        let ctlNode = try XCTUnwrap((ctl["nodes"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(apiNode.keys), Set(ctlNode.keys))
        XCTAssertEqual((api?["counts"] as? [String: Int])?["alive"], 2)
        XCTAssertFalse(server.output.contains("HTTP_FAILED"), server.output)
        withExtendedLifetime(agents) {}
    }

    /// Slowloris connections and 200 concurrent scrapers while an agent is
    /// killed: the DEAD line comes within TTL + 1 s as without them, and the
    /// watchdog is petted on time throughout.
    func testHostileClientsDelayNeitherVerdictsNorTheWatchdog() throws {
        let notify = try NotifyRecorder()
        let (server, port) = try startListeningServer(environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "2000000"])
        let agent = try startAgent(node: "victim", ttl: 2)
        let bystander = try startAgent(node: "bystander")
        try server.waitForLine("node victim ALIVE")
        try server.waitForLine("node bystander ALIVE")

        let stop = Locked(false)
        // Slowloris: half-sent requests, one more header byte a second.
        let slow = try (0..<40).map { _ in try HTTPProbe(port: port) }
        for probe in slow { probe.send("GET /metrics HTTP/1.1\r\nHost: x\r\n") }
        let group = DispatchGroup()
        let answered = Locked(0)
        // Threads of their own (GCD would run only as many as there are cores).
        func spawn(_ body: @escaping @Sendable () -> Void) {
            group.enter()
            Thread { body(); group.leave() }.start()
        }
        for _ in 0..<200 {
            spawn {
                while !stop.withLock({ $0 }) {
                    if (try? HTTPProbe.request(port: port, "/metrics").status) == 200 { answered.withLock { $0 += 1 } }
                    // A pause, so the load stays on the server rather than on the machine's two cores.
                    usleep(20_000)
                }
            }
        }
        nonisolated(unsafe) let trickled = slow
        spawn {
            while !stop.withLock({ $0 }) {
                for probe in trickled { probe.send("X") }
                sleep(1)
            }
        }
        Thread.sleep(forTimeInterval: 1)
        let t0 = Date()
        agent.signal(SIGKILL)
        let seen = try server.waitForLine("node victim DEAD", after: t0, timeout: 8)
        Thread.sleep(forTimeInterval: max(0, 5 - Date().timeIntervalSince(t0)))
        let pets = notify.all(after: t0).filter { $0 == "WATCHDOG=1" }.count
        stop.withLock { $0 = true }
        group.wait()
        print("under 40 slowloris + 200 scraping connections: SIGKILL -> DEAD \(ms(seen.timeIntervalSince(t0))) (TTL 2 s); "
              + "\(pets) watchdog pets in 5 s; \(answered.withLock { $0 }) scrapes answered")
        XCTAssertLessThan(seen.timeIntervalSince(t0), 2 + 1)
        XCTAssertGreaterThanOrEqual(pets, 4, "petted every second (WATCHDOG_USEC 2 s)")
        XCTAssertGreaterThan(answered.withLock { $0 }, 0)
        XCTAssertFalse(server.output.contains("not petting"), server.output)
        for probe in slow { probe.close() }
        XCTAssertEqual(try HTTPProbe.request(port: port, "/healthz").status, 200, "the listener serves again after the load")
        withExtendedLifetime(bystander) {}
    }

    /// A blind server says so: /healthz 503 with the reason, /metrics and the
    /// page's /api/server show the frozen view; all back once etcd is.
    func testABlindServerAnswersUnhealthyAndSaysWhy() throws {
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        let port = try EtcdCluster.freePort()
        let config = try settingsFile(endpoints: etcd.endpoints, extra: "[Server]\nListen=127.0.0.1:\(port)\n")
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", config])
        try server.waitForLine("watching from")
        try eventually("healthz 200 once synced") { try HTTPProbe.request(port: port, "/healthz").status == 200 }
        let down = Date()
        etcd.kill(member: 0)
        try server.waitForLine("fleet view frozen", after: down, timeout: 5)
        try eventually("healthz 503 while blind") { try HTTPProbe.request(port: port, "/healthz").status == 503 }
        XCTAssertTrue(try HTTPProbe.request(port: port, "/healthz").text.hasPrefix("view frozen since"))
        XCTAssertTrue(try HTTPProbe.request(port: port, "/metrics").text.contains("monitor_server_view_frozen 1\n"))
        XCTAssertTrue(try HTTPProbe.request(port: port, "/api/server").text.contains(#""unhealthy" : "view frozen since"#))
        try etcd.start(member: 0)
        try etcd.waitUntilReady(timeout: 10)
        try eventually("healthz 200 again", timeout: 15) { try HTTPProbe.request(port: port, "/healthz").status == 200 }
    }

    private func monitorctlStatusJSON() throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary("monitorctl"))
        process.arguments = ["status", "-o", "json", "--config", try settingsFile()]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func checkWithPromtool(_ body: Data) throws {
        let promtool = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: promtool) else {
            throw XCTSkip("promtool missing (Debian's prometheus package; make check installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(body)
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "promtool check metrics: \(said)")
    }
}
