import JSONStream

/// The fleet as one JSON document: what `monitorctl status -o json` prints and
/// monitor-serverd serves at `/api/fleet`, so both say the same in the same shape.
/// Pure: the same view gives the same bytes.
public enum FleetJSON {
    /// The document. Field names are part of the interface (documented in
    /// `monitorctl status --help`); every node field is always present, null
    /// when unknown. Keys sorted; written front to back (10,000 nodes in a few
    /// tens of milliseconds, no tree of `Any`).
    public static func document(_ view: FleetView, leader: LeaderRecord?, staleAfterRounds: Int) -> [UInt8] {
        // About 600 bytes per node.
        var w = JSONWriter(capacity: 1024 + 640 * view.nodes.count)
        w.object { w in
            w.key("counts")
            w.object { w in
                for state in FleetView.State.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
                    w.key(state.rawValue)
                    w.integer(view.count(state))
                }
            }
            w.key("leader")
            if let leader {
                w.object { w in
                    w.key("pid"); w.integer(leader.pid)
                    w.key("server"); w.string(leader.server)
                    w.key("since"); w.number(leader.since)
                    w.key("version"); w.string(leader.version)
                }
            } else {
                w.null()
            }
            w.key("nodes")
            w.array { w in
                for node in view.nodes { object(node, &w) }
            }
            w.key("stale_after_rounds")
            w.integer(staleAfterRounds)
            w.key("summary")
            w.string(view.summary)
            w.key("time")
            w.number(view.now)
        }
        return w.takeLine()
    }

    static func object(_ node: FleetView.Node, _ w: inout JSONWriter) {
        w.object { w in
            w.key("clock_skew"); w.number(node.clockSkew)
            w.key("config_error"); w.string(node.configError)
            w.key("heartbeat"); w.bool(node.hasHeartbeat)
            w.key("hostname"); w.string(node.hostname)
            w.key("interval"); w.number(node.interval)
            w.key("last_seen"); w.number(node.lastSeen)
            w.key("memory_available_bytes"); w.integer(node.memoryAvailableBytes)
            w.key("memory_total_bytes"); w.integer(node.memoryTotalBytes)
            w.key("metrics")
            w.object { w in
                for (name, value) in node.metrics.sorted(by: { $0.key < $1.key }) {
                    w.key(name); w.number(value)
                }
            }
            w.key("node"); w.string(node.name)
            w.key("registered"); w.bool(node.isRegistered)
            w.key("since"); w.number(node.since)
            w.key("state"); w.string(node.state.rawValue)
            w.key("state_source"); w.string(node.stateSource.rawValue)
            w.key("value_error"); w.string(node.valueError)
            w.key("version"); w.string(node.version)
        }
    }
}
