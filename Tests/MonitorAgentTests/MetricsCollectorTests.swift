import FleetModel
@testable import MonitorAgent
import ProcFS
import ProcFSTestKit
import XCTest

final class MetricsCollectorTests: XCTestCase {
    private let all = Set(MetricName.allCases)

    /// A scratch root with every file at a known baseline.
    private func makeBaseline() throws -> ScratchProc {
        let proc = try ScratchProc()
        try proc.writeStat(busy: 1000, idle: 9000)
        try proc.writeMeminfo(totalKB: 1000, availableKB: 250)
        try proc.writeDiskstats([("sda", 1000, 2000), ("sda1", 1000, 2000), ("nvme0n1", 0, 0),
                                 ("loop0", 0, 0), ("dm-0", 0, 0)])
        try proc.writeNetDev([("lo", 1_000_000, 1_000_000), ("eth0", 1000, 500), ("wlan0", 0, 0)])
        return proc
    }

    func testFirstRoundAfterPrimeHasRates() throws {
        let proc = try makeBaseline()
        let clock = FakeClock()
        let collector = MetricsCollector(procRoot: proc.root, clock: clock.function)
        XCTAssertEqual(collector.prime(), [:])

        clock.now += 2
        try proc.writeStat(busy: 1030, idle: 9070)
        try proc.writeDiskstats([("sda", 5000, 2008), ("sda1", 99999, 99999), ("nvme0n1", 10, 20),
                                 ("loop0", 88888, 88888), ("dm-0", 77777, 77777)])
        try proc.writeNetDev([("lo", 9_000_000, 9_000_000), ("eth0", 3000, 900), ("wlan0", 1000, 100)])

        let sample = collector.collect(all)
        XCTAssertEqual(sample.errors, [:])
        XCTAssertEqual(sample.values[.cpu]!, 30, accuracy: 1e-9)
        XCTAssertEqual(sample.values[.memory]!, 75, accuracy: 1e-9)
        XCTAssertEqual(sample.memoryTotalBytes, 1000 * 1024)
        XCTAssertEqual(sample.memoryAvailableBytes, 250 * 1024)
        // Whole disks sda and nvme0n1 only; sectors are 512 bytes.
        XCTAssertEqual(sample.values[.diskRead], Double((4000 + 10) * 512) / 2)
        XCTAssertEqual(sample.values[.diskWrite], Double((8 + 20) * 512) / 2)
        // Everything but lo.
        XCTAssertEqual(sample.values[.netIn], Double(2000 + 1000) / 2)
        XCTAssertEqual(sample.values[.netOut], Double(400 + 100) / 2)
    }

    func testEachRoundMeasuresSinceThePreviousOne() throws {
        let proc = try makeBaseline()
        let clock = FakeClock()
        let collector = MetricsCollector(procRoot: proc.root, clock: clock.function)
        collector.prime()
        clock.now += 1
        try proc.writeNetDev([("eth0", 2000, 500)])
        XCTAssertEqual(collector.collect([.netIn]).values, [.netIn: 1000])
        clock.now += 4
        try proc.writeNetDev([("eth0", 4000, 500)])
        XCTAssertEqual(collector.collect([.netIn]).values, [.netIn: 500])
    }

    func testWithoutPrimeTheFirstRoundOnlySetsTheBaseline() throws {
        let proc = try makeBaseline()
        let clock = FakeClock()
        let collector = MetricsCollector(procRoot: proc.root, clock: clock.function)
        let first = collector.collect(all)
        // Gauges have values at once; rates have neither a value nor an error.
        XCTAssertEqual(Set(first.values.keys), [.memory])
        XCTAssertEqual(first.errors, [:])
        clock.now += 1
        XCTAssertEqual(Set(collector.collect(all).values.keys), all)
    }

    func testCounterResetAndRemovedDeviceNeverGoNegative() throws {
        let proc = try makeBaseline()
        let clock = FakeClock()
        let collector = MetricsCollector(procRoot: proc.root, clock: clock.function)
        collector.prime()
        clock.now += 1
        // sda counters went backwards (device re-created), nvme0n1 advanced; on the
        // network, wlan0 disappeared and eth0 wrapped.
        try proc.writeDiskstats([("sda", 10, 10), ("nvme0n1", 4, 2)])
        try proc.writeNetDev([("lo", 0, 0), ("eth0", 5, 5)])
        try proc.writeStat(busy: 10, idle: 10)
        let sample = collector.collect(all)
        XCTAssertEqual(sample.values[.diskRead], 4 * 512)
        XCTAssertEqual(sample.values[.diskWrite], 2 * 512)
        XCTAssertEqual(sample.values[.netIn], 0)
        XCTAssertEqual(sample.values[.netOut], 0)
        XCTAssertEqual(sample.values[.cpu], 0)

        // The reset readings are the new baseline.
        clock.now += 1
        try proc.writeDiskstats([("sda", 20, 10), ("nvme0n1", 4, 2)])
        try proc.writeNetDev([("eth0", 105, 5)])
        let next = collector.collect(all)
        XCTAssertEqual(next.values[.diskRead], 10 * 512)
        XCTAssertEqual(next.values[.netIn], 100)
    }

    func testMissingFileIsAnErrorForItsMetricsOnly() throws {
        let collector = MetricsCollector(procRoot: Fixtures.path("proc-missing-diskstats"))
        let primeErrors = collector.prime()
        XCTAssertEqual(Set(primeErrors.keys), [.diskRead, .diskWrite])
        let sample = collector.collect(all)
        XCTAssertEqual(Set(sample.errors.keys), [.diskRead, .diskWrite])
        let expected = "cannot read \(Fixtures.path("proc-missing-diskstats"))/diskstats: No such file or directory"
        XCTAssertEqual(sample.errors[.diskRead], expected)
        XCTAssertEqual(Set(sample.values.keys), [.cpu, .memory, .netIn, .netOut])
        XCTAssertEqual(sample.values[.memory]!, Double(8056920 - 5170824) / 8056920 * 100, accuracy: 1e-9)
    }

    func testMalformedFileIsAnErrorWithFileAndLine() throws {
        let root = Fixtures.path("proc-malformed-meminfo")
        let collector = MetricsCollector(procRoot: root)
        XCTAssertEqual(collector.prime(), [:], "meminfo has no baseline to take")
        let sample = collector.collect(all)
        XCTAssertEqual(Set(sample.errors.keys), [.memory])
        XCTAssertTrue(sample.errors[.memory]!.hasPrefix("\(root)/meminfo:2: "), sample.errors[.memory]!)
        XCTAssertNil(sample.memoryTotalBytes)
        XCTAssertEqual(Set(sample.values.keys), [.cpu, .diskRead, .diskWrite, .netIn, .netOut])
    }

    func testUnselectedSourcesAreNotRead() throws {
        let collector = MetricsCollector(procRoot: Fixtures.path("proc-missing-diskstats"))
        XCTAssertEqual(collector.prime([.cpu, .netIn]), [:])
        let sample = collector.collect([.cpu, .netIn])
        XCTAssertEqual(sample.errors, [:])
        // net out is computed alongside net in, but not published unselected.
        XCTAssertEqual(Set(sample.values.keys), [.cpu, .netIn])
        XCTAssertNil(sample.memoryTotalBytes)
    }

    func testErrorThenRecoveryMeasuresOverTheLongerInterval() throws {
        let proc = try makeBaseline()
        let clock = FakeClock()
        let collector = MetricsCollector(procRoot: proc.root, clock: clock.function)
        collector.prime()
        clock.now += 1
        try proc.remove("net/dev")
        XCTAssertNotNil(collector.collect([.netIn]).errors[.netIn])
        clock.now += 1
        try proc.writeNetDev([("eth0", 3000, 500)])
        XCTAssertEqual(collector.collect([.netIn]).values, [.netIn: 1000])
    }

    func testAgainstEveryCapturedKernel() throws {
        for root in ["proc-6.18-vm", "proc-4.4", "proc-2.6.18"] {
            let collector = MetricsCollector(procRoot: Fixtures.path(root))
            collector.prime()
            let sample = collector.collect(all)
            XCTAssertEqual(sample.errors, [:], root)
            XCTAssertEqual(Set(sample.values.keys), all, root)
            // Same files twice: no ticks, no bytes.
            XCTAssertEqual(sample.values[.cpu], 0, root)
            XCTAssertEqual(sample.values[.diskRead], 0, root)
        }
    }

    func testRealProc() throws {
        let collector = MetricsCollector()
        XCTAssertEqual(collector.prime(), [:])
        usleep(20_000)
        let sample = collector.collect(all)
        XCTAssertEqual(sample.errors, [:])
        for (metric, value) in sample.values {
            XCTAssertGreaterThanOrEqual(value, 0, metric.rawValue)
        }
        XCTAssertTrue((0...100).contains(sample.values[.cpu]!))
        XCTAssertTrue((0...100).contains(sample.values[.memory]!))
        XCTAssertGreaterThan(sample.memoryTotalBytes ?? 0, 0)
    }
}
