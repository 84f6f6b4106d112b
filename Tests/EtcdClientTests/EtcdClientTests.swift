import Concurrency
import EtcdClient
import EtcdTestSupport
import Foundation
import XCTest

/// The client against a real etcd started on loopback for this class.
final class EtcdClientTests: EtcdTestCase {
    var client: EtcdClient!

    override func setUpWithError() throws {
        let cluster = try requireCluster()
        client = EtcdClient(endpoints: cluster.endpoints)
    }

    func testPutRangeDelete() throws {
        let rev = try client.put("/t/kv/a", "1")
        try client.put("/t/kv/b", "2")
        try client.put("/t/kw", "outside")
        XCTAssertGreaterThan(rev, 0)
        let all = try client.range("/t/kv/", prefix: true)
        XCTAssertEqual(all.kvs.map(\.key), ["/t/kv/a", "/t/kv/b"])
        XCTAssertEqual(all.kvs.map(\.valueString), ["1", "2"])
        XCTAssertGreaterThanOrEqual(all.revision, rev)
        XCTAssertEqual(try client.range("/t/kv/a").kvs.first?.valueString, "1")
        XCTAssertEqual(try client.delete("/t/kv/", prefix: true), 2)
        XCTAssertTrue(try client.range("/t/kv/", prefix: true).kvs.isEmpty)
        XCTAssertEqual(try client.range("/t/kw").kvs.count, 1)
    }

    func testLeaseLifecycle() throws {
        let lease = try client.grantLease(ttl: 5)
        XCTAssertNotEqual(lease.id, 0)
        XCTAssertEqual(lease.ttl, 5)
        try client.put("/t/lease/k", "v", lease: lease.id)
        XCTAssertEqual(try client.range("/t/lease/k").kvs.first?.lease, lease.id)
        XCTAssertEqual(try client.keepAlive(lease.id), 5)
        let left = try XCTUnwrap(try client.timeToLive(lease.id))
        XCTAssertTrue((4...5).contains(left), "\(left) s left")
        try client.revoke(lease.id)
        XCTAssertNil(try client.timeToLive(lease.id), "gone")
        XCTAssertTrue(try client.range("/t/lease/k").kvs.isEmpty, "revoke deletes attached keys")
        // etcd answers a keepalive on a dead lease without TTL: that is leaseLost.
        XCTAssertThrowsError(try client.keepAlive(lease.id)) { error in
            XCTAssertEqual(error as? EtcdError, .leaseLost(id: lease.id))
        }
        XCTAssertThrowsError(try client.put("/t/lease/k", "v", lease: lease.id)) { error in
            guard case .leaseLost = error as? EtcdError else { return XCTFail("got \(error)") }
        }
    }

    func testCompareAndSwap() throws {
        XCTAssertTrue(try client.putIf("/t/cas", value: Array("a".utf8), modRevision: 0))
        XCTAssertFalse(try client.putIf("/t/cas", value: Array("b".utf8), modRevision: 0))
        let rev = try client.range("/t/cas").kvs[0].modRevision
        XCTAssertTrue(try client.putIf("/t/cas", value: Array("c".utf8), modRevision: rev))
        XCTAssertEqual(try client.range("/t/cas").kvs.first?.valueString, "c")
    }

    func testUnreachableEndpointIsRetryableAndFailsOverToTheNext() throws {
        let dead = "http://127.0.0.1:\(try EtcdCluster.freePort())"
        let lonely = EtcdClient(endpoints: [dead], requestTimeout: 1)
        XCTAssertThrowsError(try lonely.range("/x")) { error in
            guard let e = error as? EtcdError, case let .unavailable(endpoint, reason) = e else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, dead)
            XCTAssertEqual(reason, "connection refused")
            XCTAssertTrue(e.isRetryable)
        }
        let both = EtcdClient(endpoints: [dead] + Self.cluster!.endpoints)
        try both.put("/t/failover", "ok")
        XCTAssertEqual(both.preferredEndpoint, Self.cluster!.endpoints[0], "sticks to the member that answered")
    }

    func testWatchStreamDeliversEventsAndCancelsWithinMilliseconds() throws {
        let start = try client.range("/t/w/", prefix: true).revision + 1
        let stream = WatchStream()
        let events = Locked<[WatchEvent]>([])
        let done = expectation(description: "watch returns")
        let writer = EtcdClient(endpoints: Self.cluster!.endpoints)
        let endpoint = Self.cluster!.endpoints[0]
        Thread.detachNewThread {
            do {
                try stream.run(endpoint: endpoint, key: "/t/w/", prefix: true, startRevision: start,
                               onMessage: { message in
                    let count = events.withLock { $0 += message.events; return $0.count }
                    if count == 2 { DispatchQueue.global().async { stream.cancel() } }
                })
            } catch EtcdError.cancelled {
            } catch {
                XCTFail("\(error)")
            }
            done.fulfill()
        }
        try writer.put("/t/w/a", "1")
        try writer.delete("/t/w/a")
        wait(for: [done], timeout: 5)
        let seen = events.withLock { $0 }
        XCTAssertEqual(seen.map(\.kind), [.put, .delete])
        XCTAssertEqual(seen.last?.previous?.valueString, "1", "prev_kv carried on delete")

        // Cancel of an idle stream, measured on the monotonic clock.
        let idle = WatchStream()
        let returned = expectation(description: "idle watch returns")
        let cancelledAt = Locked(MonotonicInstant.now())
        let cancelLatency = Locked(0.0)
        Thread.detachNewThread {
            _ = try? idle.run(endpoint: endpoint, key: "/t/idle", prefix: false, startRevision: 0, onMessage: { _ in })
            let latency = MonotonicInstant.now().secondsSince(cancelledAt.withLock { $0 })
            cancelLatency.withLock { $0 = latency }
            returned.fulfill()
        }
        usleep(300_000)
        cancelledAt.withLock { $0 = .now() }
        idle.cancel()
        wait(for: [returned], timeout: 2)
        let latency = cancelLatency.withLock { $0 }
        XCTAssertLessThan(latency, 0.5, "cancel wakes the blocked poll (measured \(latency * 1000) ms)")
        print("watch cancel latency: \(String(format: "%.2f", latency * 1000)) ms")
    }

    /// Two quiet watches of one member in one process (the agent's config and
    /// heartbeat-key watches): they fall due together after the same answer, and
    /// one probe must serve both, not one each.
    func testQuietWatchesOfOneMemberShareEachProbe() throws {
        let endpoint = Self.cluster!.endpoints[0]
        func probesAnswered(sharing: Bool, seconds: Double) -> (Int, [String]) {
            let shared = MemberLiveness()
            let answered = Locked(0)
            let failures = Locked<[String]>([])
            let streams = [WatchStream(), WatchStream()]
            let group = DispatchGroup()
            for (i, stream) in streams.enumerated() {
                let probe = WatchProbe(silence: 1, timeout: 0.5, liveness: sharing ? shared : MemberLiveness())
                group.enter()
                Thread.detachNewThread {
                    do {
                        try stream.run(endpoint: endpoint, key: "/t/quiet/\(i)", prefix: false, startRevision: 0,
                                       probe: probe, onMessage: { _ in }, onHeard: { answered.withLock { $0 += 1 } })
                        failures.withLock { $0.append("stream \(i) ended") }
                    } catch EtcdError.cancelled {
                    } catch {
                        failures.withLock { $0.append("stream \(i): \(error)") }
                    }
                    group.leave()
                }
            }
            usleep(useconds_t(seconds * 1_000_000))
            for stream in streams { stream.cancel() }
            _ = group.wait(timeout: .now() + 3)
            return (answered.withLock { $0 }, failures.withLock { $0 })
        }
        let (alone, aloneFailures) = probesAnswered(sharing: false, seconds: 6)
        let (shared, sharedFailures) = probesAnswered(sharing: true, seconds: 6)
        print("probes answered in 6 s, two quiet watches, silence 1 s: \(alone) each on its own, \(shared) shared")
        XCTAssertEqual(aloneFailures + sharedFailures, [], "a live member's watches keep running")
        XCTAssertGreaterThanOrEqual(alone, 8, "on their own, each watch probes about every second")
        XCTAssertGreaterThanOrEqual(shared, 3, "shared, the member is still probed")
        XCTAssertLessThanOrEqual(shared, 7, "one probe per silence serves both watches")
    }

    /// A frozen member: the one shared probe goes unanswered and ends every
    /// watch of that member, the one that waited for it as soon as the one that
    /// sent it (no extra timeout for sharing).
    func testAnUnansweredSharedProbeEndsEveryWatchOfTheMember() throws {
        let own = try EtcdCluster()
        defer { own.stop() }
        let endpoint = own.endpoints[0]
        let shared = MemberLiveness()
        let ended = Locked<[(Double, String)]>([])
        let streams = [WatchStream(), WatchStream()]
        let group = DispatchGroup()
        for (i, stream) in streams.enumerated() {
            group.enter()
            Thread.detachNewThread {
                do {
                    try stream.run(endpoint: endpoint, key: "/t/frozen/\(i)", prefix: false, startRevision: 0,
                                   probe: WatchProbe(silence: 1, timeout: 0.5, liveness: shared), onMessage: { _ in })
                    ended.withLock { $0.append((MonotonicClock.now(), "stream \(i) ended cleanly")) }
                } catch {
                    ended.withLock { $0.append((MonotonicClock.now(), "\(error)")) }
                }
                group.leave()
            }
        }
        usleep(1_500_000)
        XCTAssertEqual(ended.withLock { $0.count }, 0, "a live member keeps both")
        let pid = try XCTUnwrap(own.pid(member: 0))
        let frozenAt = MonotonicClock.now()
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let done = group.wait(timeout: .now() + 5) == .success
        for stream in streams { stream.cancel() }
        kill(pid, SIGCONT)
        let seen = ended.withLock { $0 }
        XCTAssertTrue(done, "both watches ended: \(seen.map(\.1))")
        XCTAssertEqual(seen.count, 2, "\(seen.map(\.1))")
        for (at, why) in seen {
            XCTAssertTrue(why.contains("member silent"), why)
            // silence 1 s + timeout 0.5 s, plus the poll's granularity.
            XCTAssertLessThan(at - frozenAt, 2.5, "ended \(at - frozenAt) s after the freeze: \(why)")
        }
        if seen.count == 2 {
            XCTAssertLessThan(abs(seen[1].0 - seen[0].0), 0.35, "the waiting watch learns of the silence at once")
        }
        print("frozen member: watches ended \(seen.map { String(format: "%.2f", $0.0 - frozenAt) }) s after the freeze")
    }

    func testWatchFromCompactedRevisionIsTypedAndResumableWatchRereads() throws {
        try client.put("/t/c/k", "old")
        let oldRevision = try client.range("/t/c/k").revision
        try client.put("/t/c/k", "new")
        try client.compact(revision: try client.put("/t/other", "x"))
        XCTAssertThrowsError(try WatchStream().run(endpoint: Self.cluster!.endpoints[0], key: "/t/c/", prefix: true,
                                                   startRevision: oldRevision, onMessage: { _ in })) { error in
            guard case let .compacted(rev)? = error as? EtcdError else { return XCTFail("got \(error)") }
            XCTAssertGreaterThan(rev, oldRevision)
        }

        // The resumable watch starts with a snapshot, then delivers every later change.
        let watch = ResumableWatch(client: client, key: "/t/c/", prefix: true)
        let log = Locked<[String]>([])
        let ended = expectation(description: "run returns")
        Thread.detachNewThread {
            watch.run { update in
                switch update {
                case let .snapshot(kvs, _): log.withLock { $0.append("snapshot " + kvs.map(\.valueString).joined(separator: ",")) }
                case let .events(events, _): log.withLock { $0 += events.map { "\($0.kind) \($0.kv.valueString)" } }
                default: break
                }
            }
            ended.fulfill()
        }
        try waitUntil { log.withLock { $0 }.first == "snapshot new" }
        for i in 1...20 { try client.put("/t/c/k", "v\(i)") }
        try waitUntil { log.withLock { $0 }.count == 21 }
        watch.stop()
        wait(for: [ended], timeout: 1)
        XCTAssertEqual(log.withLock { $0 }, ["snapshot new"] + (1...20).map { "put v\($0)" })
    }

    private func waitUntil(timeout: Double = 5, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw TimeoutError(what: "condition not met in \(timeout) s") }
            usleep(10_000)
        }
    }
}

struct TimeoutError: Error { let what: String }
