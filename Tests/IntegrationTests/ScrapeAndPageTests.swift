import Concurrency
import EtcdTestSupport
import Foundation
import XCTest

/// The listener as its users meet it: a real Prometheus scraping it, and the
/// fleet page in a real headless Chromium. Each skips only when its binary is
/// missing (`make check` installs Debian's prometheus and chromium).
final class ScrapeAndPageTests: DaemonTestCase {
    private func listeningServer() throws -> (DaemonProcess, Int) {
        let port = try EtcdCluster.freePort()
        let config = try settingsFile(extra: "[Server]\nListen=127.0.0.1:\(port)\n")
        let server = try DaemonProcess("monitor-serverd", arguments: ["--config", config])
        try server.waitForLine("serving /metrics and the fleet page on http://127.0.0.1:\(port)/")
        try server.waitForLine("watching from")
        return (server, port)
    }

    private func require(_ path: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("\(path) missing (make check installs it from Debian)")
        }
    }

    /// Prometheus on a free loopback port, a temp dir and a 1 s scrape interval:
    /// monitor_node_up is 1 for two live agents and turns 0 for a killed one;
    /// rate() of a disk counter is a number.
    func testPrometheusScrapesTheFleet() throws {
        try require("/usr/bin/prometheus")
        let (server, port) = try listeningServer()
        let agents = [try startAgent(node: "p1", ttl: 2), try startAgent(node: "p2", ttl: 2)]
        try server.waitForLine("node p1 ALIVE")
        try server.waitForLine("node p2 ALIVE")

        let promPort = try EtcdCluster.freePort()
        let config = dir + "/prometheus.yml"
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
          - job_name: monitor
            static_configs: [{targets: ["127.0.0.1:\(port)"]}]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(dir)/tsdb",
                                "--web.listen-address=127.0.0.1:\(promPort)", "--log.level=warn"]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }

        func query(_ promql: String) throws -> [(node: String, value: String)] {
            let path = "/api/v1/query?query=" + promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            guard let answer = try? HTTPProbe.request(port: promPort, path), answer.status == 200,
                  let json = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else { return [] }
            return result.compactMap { row in
                guard let metric = row["metric"] as? [String: String], let value = row["value"] as? [Any],
                      value.count == 2, let text = value[1] as? String else { return nil }
                return (metric["node"] ?? "", text)
            }
        }
        func up() throws -> [String: String] {
            Dictionary(try query("monitor_node_up").map { ($0.node, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        try eventually("Prometheus sees both nodes up", timeout: 20) { try up() == ["p1": "1", "p2": "1"] }
        agents[0].signal(SIGKILL)
        let turned = try eventually("monitor_node_up for the killed node turns 0", timeout: 10) { try up()["p1"] == "0" }
        let rate = try query("rate(monitor_node_disk_written_bytes_total[5s])")
        try eventually("rate() of a disk counter", timeout: 10) {
            try query("rate(monitor_node_disk_written_bytes_total{node=\"p2\"}[5s])").first.map { Double($0.value) != nil } ?? false
        }
        print("Prometheus: p1 up 0 \(ms(turned)) after SIGKILL (TTL 2 s); rate rows: \(rate.count)")
        withExtendedLifetime(agents) {}
    }

    /// The page in headless Chromium: three nodes (alive, stopped, dead) with their
    /// states, and a live update without a reload: a config change made while
    /// the page is open shows in its row (highlighted, `data-changed`). A
    /// screenshot is left in .build/test-artifacts/fleet-page.png.
    func testFleetPageRendersAndUpdatesLiveInChromium() throws {
        try require("/usr/bin/chromium")
        let (server, port) = try listeningServer()
        let alive = try startAgent(node: "c-alive", ttl: 2)
        let stopped = try startAgent(node: "c-stopped", ttl: 2)
        let dead = try startAgent(node: "c-dead", ttl: 2)
        for node in ["c-alive", "c-stopped", "c-dead"] { try server.waitForLine("node \(node) ALIVE") }
        stopped.signal(SIGTERM)
        dead.signal(SIGKILL)
        try server.waitForLine("node c-stopped LEFT")
        try server.waitForLine("node c-dead DEAD")

        // Virtual time runs the page's 2 s polls back to back, each a real
        // fetch: a budget of many polls keeps the one page load open for a few
        // seconds of real time, long enough for the config change made meanwhile.
        let client = self.client!, key = "\(prefix)/config/c-alive"
        let change = Thread {
            Thread.sleep(forTimeInterval: 1)
            _ = try? client.put(key, #"{"interval": 3}"#)
        }
        let t0 = Date()
        let dom = try chromium(["--dump-dom", "--virtual-time-budget=1200000", "http://127.0.0.1:\(port)/"], then: change)
        let wall = Date().timeIntervalSince(t0)
        for (node, state) in [("c-alive", "alive"), ("c-stopped", "stopped"), ("c-dead", "dead")] {
            XCTAssertTrue(dom.contains("<td>\(node)</td><td class=\"state\"><span class=\"\(state)\">\(state)</span>"),
                          "\(node) \(state) in:\n\(dom.prefix(3000))")
        }
        XCTAssertTrue(dom.contains(#"data-changed="interval 10 -&gt; 3"><td>c-alive</td>"#),
                      "the config change arrived without a reload (page open \(wall) s):\n\(dom.prefix(3000))")
        XCTAssertTrue(dom.contains(">1 alive<") && dom.contains(">1 stopped<") && dom.contains(">1 dead<"), "counts at the top")
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/test-artifacts").standardized
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let shot = artifacts.appendingPathComponent("fleet-page.png").path
        _ = try chromium(["--screenshot=\(shot)", "--window-size=1000,400", "--virtual-time-budget=3000",
                          "http://127.0.0.1:\(port)/"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: shot), "screenshot at \(shot)")
        print("fleet page: live update seen within one load of \(String(format: "%.1f", wall)) s; screenshot: \(shot)")
        withExtendedLifetime([alive, stopped, dead]) {}
    }

    /// Runs headless Chromium with `arguments`; starts `then` once it runs; its stdout.
    private func chromium(_ arguments: [String], then: Thread? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(dir)/chromium",
                             "--no-first-run", "--disable-dev-shm-usage"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        then?.start()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
