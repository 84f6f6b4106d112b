import ArgumentParser
import Concurrency
import EtcdClient
import FleetModel
import Foundation
import SafeText

/// `monitorctl endpoints`: the etcd cluster monitor depends on, one row per
/// configured endpoint, as `etcdctl endpoint status -w table` shows it.
struct EndpointsCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "Show each configured etcd endpoint: member ID, version, DB size, leader, raft term and index, errors.",
        discussion: """
        Every endpoint is asked on its own (no failover), all at once. --health adds \\
        READ: the round trip of a linearizable read (a range of the key prefix, limit \\
        1), which only succeeds through a member that has a leader.

        -o json prints {"endpoints": [{"endpoint", "reachable", "member_id" (hex, or \\
        null), "version", "db_size", "db_size_in_use" (bytes), "is_leader", "leader" \\
        (the leader's member ID this member knows, hex, or null), "raft_term", \\
        "raft_index", "raft_applied_index", "errors" (list), "read_seconds" (with \\
        --health, else null), "read_error"}], "leader" (hex, or null), "healthy"}.

        Exit codes: 0 every member answers and one leads; 2 a member is down or \\
        reports errors, no member leads, or (with --health) a read fails; a usage \\
        error is 2 and a settings error 78, as for every command.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("output")], help: "Output format: table or json.")
    var output: OutputFormat = .table

    @Flag(name: .long, help: "Print the table's rows only, without the header and summary.")
    var noHeaders = false

    @Flag(name: .long, help: "Also time a linearizable read through each endpoint.")
    var health = false

    /// What one endpoint answered.
    struct Probe {
        let endpoint: String
        var status: MemberStatus?
        /// Why the status could not be read.
        var failure: String?
        var readSeconds: Double?
        var readError: String?

        /// Answered, without errors, and (with --health) read through.
        var isHealthy: Bool {
            guard let status else { return false }
            return status.errors.isEmpty && readError == nil
        }
    }

    static let header = ["ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "RAFT TERM", "RAFT INDEX", "ERRORS"]

    func execute(_ session: CtlSession) throws -> Int32 {
        let probes = Self.probe(session.client.endpoints, readKey: health ? session.layout.prefix + "/" : nil,
                                timeout: session.settings.etcd.requestTimeoutSec, access: session.client.access)
        let leader = probes.first { $0.status?.isLeader ?? false }?.status?.member
        let healthy = leader != nil && probes.allSatisfy(\.isHealthy)
        switch output {
        case .json:
            session.output.write(CtlJSON.document([
                "endpoints": probes.map(Self.json), "leader": CtlJSON.orNull(leader.map(Self.hex)), "healthy": healthy,
            ]))
        case .table:
            var table = TextTable(header: Self.header + (health ? ["READ"] : []))
            for probe in probes { table.append(row(probe)) }
            session.output.write(table.render(headers: !noHeaders))
            if !noHeaders { session.output.write("\n" + Self.summary(probes, leader: leader) + "\n") }
        }
        return healthy ? CtlExitCode.success : CtlExitCode.Status.critical
    }

    /// Asks every endpoint at once, each through a client of its own (a member
    /// that does not answer costs its own timeout, not everyone's).
    static func probe(_ endpoints: [String], readKey: String?, timeout: Double, access: EtcdAccess? = nil) -> [Probe] {
        let results = Locked([Probe?](repeating: nil, count: endpoints.count))
        DispatchQueue.concurrentPerform(iterations: endpoints.count) { index in
            let endpoint = endpoints[index]
            let client = EtcdClient(endpoints: [endpoint], requestTimeout: timeout, access: access)
            var probe = Probe(endpoint: endpoint)
            do {
                probe.status = try client.status(of: endpoint)
            } catch {
                probe.failure = "\(error)"
            }
            if let readKey, probe.status != nil {
                // After the status call: the connection is open, so this times the read alone.
                let start = MonotonicInstant.now()
                do {
                    _ = try client.range(readKey, prefix: true, limit: 1)
                    probe.readSeconds = MonotonicInstant.now().seconds - start.seconds
                } catch {
                    probe.readError = "\(error)"
                }
            }
            results.withLock { $0[index] = probe }
        }
        return results.withLock { $0.compactMap { $0 } }
    }

    /// Member IDs as etcdctl prints them: lowercase hex.
    static func hex(_ id: UInt64) -> String { String(id, radix: 16) }

    private func row(_ probe: Probe) -> [String] {
        var cells: [String]
        if let status = probe.status {
            cells = [probe.endpoint, Self.hex(status.member), status.version, HumanFormat.bytes(Double(status.dbSizeFile)),
                     status.isLeader ? "true" : "false", String(status.raftTerm), String(status.raftIndex),
                     status.errors.isEmpty ? HumanFormat.none : SafeText.escaped(status.errors.joined(separator: "; "), limit: 120)]
        } else {
            cells = [probe.endpoint] + Array(repeating: HumanFormat.none, count: 6)
                + [SafeText.escaped(probe.failure ?? "no answer", limit: 120)]
        }
        if health {
            cells.append(probe.readSeconds.map { FixedPoint.text($0 * 1000, places: 1) + " ms" }
                         ?? probe.readError.map { "failed: " + SafeText.escaped($0, limit: 120) } ?? HumanFormat.none)
        }
        return cells
    }

    /// "leader 8e9e05c52164694d (http://...); 1 of 3 endpoints down".
    static func summary(_ probes: [Probe], leader: UInt64?) -> String {
        let leading = probes.first { $0.status?.isLeader ?? false }
        var text = leader.map { "leader \(hex($0)) at \(leading?.endpoint ?? "?")" } ?? "NO LEADER among the endpoints that answer"
        let down = probes.filter { $0.status == nil }.count
        let failing = probes.filter { $0.status != nil && !$0.isHealthy }.count
        text += down == 0 ? "; \(probes.count) of \(probes.count) endpoints answer" : "; \(down) of \(probes.count) endpoints down"
        if failing > 0 { text += "; \(failing) with errors" }
        return text
    }

    static func json(_ probe: Probe) -> [String: Any] {
        let s = probe.status
        return [
            "endpoint": probe.endpoint, "reachable": s != nil,
            "member_id": CtlJSON.orNull(s.map { hex($0.member) }), "version": CtlJSON.orNull(s?.version),
            "db_size": CtlJSON.orNull(s?.dbSizeFile), "db_size_in_use": CtlJSON.orNull(s?.dbSizeInUse),
            "is_leader": s?.isLeader ?? false, "leader": CtlJSON.orNull(s.flatMap { $0.leader == 0 ? nil : hex($0.leader) }),
            "raft_term": CtlJSON.orNull(s?.raftTerm), "raft_index": CtlJSON.orNull(s?.raftIndex),
            "raft_applied_index": CtlJSON.orNull(s?.raftAppliedIndex),
            "errors": s?.errors ?? [probe.failure ?? "no answer"],
            "read_seconds": CtlJSON.orNull(probe.readSeconds), "read_error": CtlJSON.orNull(probe.readError),
        ]
    }
}
