import Concurrency
import FleetModel
@testable import MonitorServer
import XCTest

/// The election as one server sees it, fed by hand.
final class LeadershipTests: XCTestCase {
    private func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: UInt64(seconds * 1e9)) }
    private let other = LeaderRecord(server: "b", pid: 9, since: 1, version: "0.1.0").encoded()

    func testCampaignsOnlyWithALeaseAndOnceTheKeyIsKnownToBeVacant() {
        var l = Leadership()
        XCTAssertEqual(l.leaseGranted(7, now: at(0)), [], "whether a leader exists is not known yet")
        XCTAssertEqual(l.leaderKey(value: nil, lease: 0, now: at(0)), [.campaign(lease: 7)])
        XCTAssertEqual(l.leaderKey(value: nil, lease: 0, now: at(0)), [], "one campaign at a time")
        XCTAssertEqual(l.campaigned(lease: 7, won: true, now: at(1)), [.lead])
        XCTAssertTrue(l.isLeading)
        XCTAssertEqual(l.leaderText, "this server")
        XCTAssertEqual(l.leaderKey(value: LeaderRecord(server: "a", pid: 1, since: 1, version: "").encoded(), lease: 7, now: at(1)), [],
                       "its own key seen on the watch: already leading")
    }

    func testAStandbyFollowsTheHolderAndTakesOverWhenTheKeyGoes() {
        var l = Leadership()
        XCTAssertEqual(l.leaderKey(value: other, lease: 3, now: at(0)), [.follow("b (pid 9)")], "said when a new leader is seen")
        XCTAssertEqual(l.leaderKey(value: other, lease: 3, now: at(0)), [], "not again for the same one")
        XCTAssertEqual(l.leaseGranted(7, now: at(0)), [], "someone leads")
        XCTAssertEqual(l.leaderText, "b (pid 9)")
        XCTAssertEqual(l.leaderKey(value: nil, lease: 0, now: at(0)), [.campaign(lease: 7)], "the leader resigned or died")
        XCTAssertEqual(l.campaigned(lease: 7, won: false, now: at(1)), [], "another standby was first")
        XCTAssertEqual(l.leaderKey(value: other, lease: 4, now: at(0)), [.follow("b (pid 9)")])
        XCTAssertFalse(l.isLeading)
    }

    /// A leader killed and restarted by systemd within its TTL must not race the
    /// standby that was already there: it starts with a hold-off of one TTL.
    func testARestartedLeaderLetsTheStandbysGoFirst() {
        var l = Leadership(holdoff: 10)
        XCTAssertEqual(l.leaderKey(value: other, lease: 3, now: at(100), heldByDeadPredecessor: true), [.follow("b (pid 9)")])
        XCTAssertEqual(l.leaseGranted(7, now: at(100)), [])
        XCTAssertEqual(l.leaderKey(value: nil, lease: 0, now: at(105)), [], "the old leader's lease ran out: the standbys go first")
        XCTAssertEqual(l.nextRetry, at(110))
        XCTAssertEqual(l.deadlineReached(now: at(110)), [.campaign(lease: 7)], "nobody took it: this one does")
        var late = Leadership(holdoff: 10)
        _ = late.leaderKey(value: other, lease: 3, now: at(100), heldByDeadPredecessor: true)
        _ = late.leaseGranted(7, now: at(100))
        _ = late.leaderKey(value: nil, lease: 0, now: at(104))
        _ = late.leaderKey(value: other, lease: 4, now: at(104.1))
        XCTAssertEqual(late.leaderKey(value: nil, lease: 0, now: at(105)), [.campaign(lease: 7)],
                       "a standby took the lead: the hold-off is over, its clean stop is taken over at once")
        var fresh = Leadership(holdoff: 10)
        _ = fresh.leaderKey(value: nil, lease: 0, now: at(0))
        XCTAssertEqual(fresh.leaseGranted(7, now: at(0)), [.campaign(lease: 7)], "no leader at start: no hold-off")
        var standby = Leadership(holdoff: 10)
        _ = standby.leaderKey(value: other, lease: 3, now: at(0))
        _ = standby.leaseGranted(7, now: at(0))
        XCTAssertEqual(standby.leaderKey(value: nil, lease: 0, now: at(1)), [.campaign(lease: 7)],
                       "a live leader elsewhere at start: a clean handover is taken at once")
    }

    func testAFailedCampaignIsRetriedAndALostLeaseOrAFencedWriteEndsTheLead() {
        var l = Leadership()
        _ = l.leaderKey(value: nil, lease: 0, now: at(0))
        XCTAssertEqual(l.leaseGranted(7, now: at(0)), [.campaign(lease: 7)])
        XCTAssertEqual(l.campaigned(lease: 7, won: nil, now: at(10)), [], "etcd did not answer")
        XCTAssertEqual(l.nextRetry, at(11))
        XCTAssertEqual(l.deadlineReached(now: at(11)), [.campaign(lease: 7)])
        XCTAssertEqual(l.campaigned(lease: 7, won: true, now: at(11)), [.lead])
        XCTAssertEqual(l.leaseLost(), [.stepDown("its election lease was lost")])
        XCTAssertEqual(l.campaigned(lease: 7, won: true, now: at(12)), [], "an answer for the old lease means nothing")
        XCTAssertEqual(l.leaseGranted(8, now: at(0)), [], "the old key is still there until the watch shows it gone")
        XCTAssertEqual(l.leaderKey(value: nil, lease: 0, now: at(0)), [.campaign(lease: 8)])
        XCTAssertEqual(l.campaigned(lease: 8, won: true, now: at(13)), [.lead])
        XCTAssertEqual(l.fenced(), [.stepDown("the leader key is no longer under its lease")])
        XCTAssertEqual(l.fenced(), [], "said once")
    }
}
