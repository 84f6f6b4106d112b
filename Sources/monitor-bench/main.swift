import ArgumentParser
import Concurrency
import FleetBench
import Foundation

/// monitor-bench (`make bench`): the fleet-scale load test. Not installed.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor-bench",
        abstract: "Simulate N agents against the real monitor-serverd and a throwaway etcd on loopback; report the figures.",
        discussion: """
        Starts its own etcd (free ports, temporary data dir), registers N simulated nodes that write \
        exactly what monitor-agentd writes, runs monitor-serverd from the same directory as this \
        binary, measures a steady window, kills 1 % of the nodes and stops 1 % cleanly, and prints \
        one closing line "bench: ... missed=0 false=0". Exit 1 when a transition was missed or false. \
        Everything it started is stopped and removed, also on Ctrl-C.
        """)

    @Option(name: [.customShort("n"), .long], help: "Simulated nodes.")
    var nodes = 1000
    @Option(help: "Lease TTL of every node, seconds.")
    var ttl: Int64 = 30
    @Option(help: "Round interval of every node, seconds.")
    var interval: Double = 30
    @Option(help: "Seconds of steady state to measure.")
    var window: Double = 30
    @Option(help: "Generator threads (each with its own etcd client).")
    var shards = 8
    @Option(help: ArgumentHelp("Write the results as JSON here.", valueName: "path"))
    var json: String?

    func run() throws {
        SignalListener.blockSignals()
        SignalListener.start { signal in
            FileHandle.standardError.write(Data("monitor-bench: interrupted, cleaning up\n".utf8))
            BenchCleanup.runAll()
            Foundation.exit(128 + signal)
        }
        var options = BenchRun.Options(binaries: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        options.nodes = nodes
        options.ttl = ttl
        options.interval = interval
        options.window = window
        options.shards = shards
        let report = try BenchRun(options: options).run { line in
            FileHandle.standardError.write(Data("monitor-bench: \(line)\n".utf8))
        }
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        print(report.line)
        if !report.falseExamples.isEmpty {
            FileHandle.standardError.write(Data("false transitions: \(report.falseExamples.prefix(20).joined(separator: ", "))\n".utf8))
        }
        if report.missedTransitions > 0 || report.falseTransitions > 0 { throw ExitCode(1) }
    }
}

BenchCommand.main()
