import FleetModel

/// Renders a `FleetSnapshot` in Prometheus' text exposition format 0.0.4:
/// per-node gauges and counters (label `node`), the fleet's counts by state,
/// the server's health and process metrics. Names and units follow
/// Prometheus' naming guide (base units, `_total` counters, ratios 0-1). Pure:
/// the same inputs give the same bytes; one pass per family over the nodes.
public enum MetricsExposition {
    /// The process figures of `/proc/self` at scrape time.
    public struct Process: Sendable {
        public var cpuSeconds: Double
        public var residentBytes: Double
        public var startTime: Double
        public init(cpuSeconds: Double, residentBytes: Double, startTime: Double) {
            self.cpuSeconds = cpuSeconds
            self.residentBytes = residentBytes
            self.startTime = startTime
        }
    }

    public static func render(_ snapshot: FleetSnapshot, process: Process?, now: Double) -> [UInt8] {
        var out = Writer(capacity: 4096 + snapshot.view.nodes.count * 1400)
        let nodes = snapshot.view.nodes
        // Each node's `node="..."` escaped once, not once per family (19 of them).
        out.labels = nodes.map { Array("node=\"\(escaped($0.name))\"".utf8) }

        out.family("monitor_node_up", .gauge, "1 when the node is alive, 0 when stale, stopped or dead.")
        for (i, node) in nodes.enumerated() { out.sample("monitor_node_up", node: i, node.state == .alive ? 1 : 0) }
        out.family("monitor_node_state", .gauge, "The node's state, one-hot: 1 for the state it is in.")
        for (i, node) in nodes.enumerated() {
            for state in FleetView.State.allCases {
                out.sample("monitor_node_state", node: i, label: ("state", state.rawValue), node.state == state ? 1 : 0)
            }
        }
        out.gauge("monitor_node_since_timestamp_seconds", "Unix time the node entered its state.", nodes) { $0.since }
        out.gauge("monitor_node_last_seen_timestamp_seconds", "Unix time of the node's latest heartbeat round.", nodes) { $0.lastSeen }
        out.gauge("monitor_node_interval_seconds", "The node's reporting interval.", nodes) { $0.interval }
        out.gauge("monitor_node_cpu_busy_ratio", "CPU busy over the node's latest round, 0 to 1.", nodes) { $0[.cpu].map { $0 / 100 } }
        out.gauge("monitor_node_memory_total_bytes", "MemTotal.", nodes) { $0.memoryTotalBytes.map { Double($0) } }
        out.gauge("monitor_node_memory_available_bytes", "MemAvailable.", nodes) { $0.memoryAvailableBytes.map { Double($0) } }
        for (counter, name, help) in counters {
            out.family(name, .counter, help)
            for (i, node) in nodes.enumerated() {
                if let value = node.counters[counter.rawValue] { out.sample(name, node: i, value) }
            }
        }
        out.gauge("monitor_node_config_error", "1 when the agent rejected its latest config value.", nodes) {
            $0.configError != nil ? 1 : 0
        }
        out.family("monitor_node_transitions_total", .counter,
                   "Transitions this server saw per node and event since it started (only the leader reports them).")
        for (i, node) in nodes.enumerated() {
            for (event, count) in (snapshot.transitions[node.name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                out.sample("monitor_node_transitions_total", node: i, label: ("event", event), Double(count))
            }
        }

        out.family("monitor_nodes", .gauge, "Nodes per state.")
        for state in FleetView.State.allCases {
            out.sample("monitor_nodes", label: ("state", state.rawValue), Double(snapshot.view.count(state)))
        }
        out.single("monitor_server_leader", .gauge, "1 when this server leads (reports transitions, records states).",
                   snapshot.leading ? 1 : 0)
        out.single("monitor_server_synced", .gauge, "1 once the first read of etcd is done.", snapshot.synced ? 1 : 0)
        out.single("monitor_server_watch_connected", .gauge, "1 while the heartbeat watch is connected.",
                   snapshot.watchConnected == true ? 1 : 0)
        out.single("monitor_server_view_frozen", .gauge, "1 while the view is frozen (etcd unreachable: no verdicts).",
                   snapshot.frozenSince != nil ? 1 : 0)
        if let last = snapshot.lastEventAt {
            out.single("monitor_server_last_event_age_seconds", .gauge, "Seconds since the watch's latest update.",
                       max(0, now - last))
        }
        out.single("monitor_server_etcd_errors_total", .counter, "etcd requests that failed since the start.",
                   Double(snapshot.etcdErrors))
        out.single("monitor_server_snapshot_age_seconds", .gauge, "Seconds since the loop published what is served.",
                   max(0, now - snapshot.publishedAt))
        if let process {
            out.single("process_cpu_seconds_total", .counter, "User and system CPU time spent in seconds.", process.cpuSeconds)
            out.single("process_resident_memory_bytes", .gauge, "Resident memory size in bytes.", process.residentBytes)
            out.single("process_start_time_seconds", .gauge, "Start time of the process since unix epoch in seconds.",
                       process.startTime)
        }
        return out.bytes
    }

    private static let counters: [(CounterName, String, String)] = [
        (.cpuBusySeconds, "monitor_node_cpu_busy_seconds_total", "CPU seconds busy, all CPUs, as the agent read them."),
        (.cpuSeconds, "monitor_node_cpu_seconds_total", "CPU seconds in every mode, all CPUs."),
        (.diskReadBytes, "monitor_node_disk_read_bytes_total", "Bytes read from whole disks."),
        (.diskWrittenBytes, "monitor_node_disk_written_bytes_total", "Bytes written to whole disks."),
        (.netReceivedBytes, "monitor_node_network_received_bytes_total", "Bytes received on interfaces but loopback."),
        (.netTransmittedBytes, "monitor_node_network_transmitted_bytes_total", "Bytes transmitted on interfaces but loopback."),
    ]

    /// A label value as the format wants it: backslash, double quote and line feed escaped.
    public static func escaped(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A sample value: whole numbers without a fraction, NaN and infinities as Prometheus spells them.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9.007e15 { return String(Int64(value)) }
        return "\(value)"
    }

    private enum Kind: String { case gauge, counter }

    /// Appends lines to one byte buffer.
    private struct Writer {
        var bytes: [UInt8] = []
        /// Per node (by index in the view), its escaped `node="..."` label.
        var labels: [[UInt8]] = []

        init(capacity: Int) { bytes.reserveCapacity(capacity) }

        mutating func text(_ s: String) { bytes.append(contentsOf: s.utf8) }

        mutating func family(_ name: String, _ kind: Kind, _ help: String) {
            text("# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n")
        }

        /// One sample line; `node` indexes `labels`.
        mutating func sample(_ name: String, node: Int? = nil, label: (String, String)? = nil, _ value: Double) {
            text(name)
            if node != nil || label != nil {
                bytes.append(UInt8(ascii: "{"))
                if let node { bytes.append(contentsOf: labels[node]) }
                if let label { text(node != nil ? "," : ""); text(label.0); text("=\""); text(escaped(label.1)); text("\"") }
                bytes.append(UInt8(ascii: "}"))
            }
            bytes.append(UInt8(ascii: " "))
            appendNumber(value)
            bytes.append(UInt8(ascii: "\n"))
        }

        /// `number(value)` without a String for the common case, a whole number.
        mutating func appendNumber(_ value: Double) {
            guard value == value.rounded(), abs(value) < 9.007e15 else { return text(number(value)) }
            var whole = Int64(value)
            if whole < 0 { bytes.append(UInt8(ascii: "-")); whole = -whole }
            if whole == 0 { bytes.append(UInt8(ascii: "0")); return }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buffer in
                while whole > 0 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(whole % 10)
                    whole /= 10
                    count += 1
                }
                for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
            }
        }

        mutating func gauge(_ name: String, _ help: String, _ nodes: [FleetView.Node], _ value: (FleetView.Node) -> Double?) {
            family(name, .gauge, help)
            for (i, node) in nodes.enumerated() {
                if let v = value(node) { sample(name, node: i, v) }
            }
        }

        mutating func single(_ name: String, _ kind: Kind, _ help: String, _ value: Double) {
            family(name, kind, help)
            sample(name, value)
        }
    }
}
