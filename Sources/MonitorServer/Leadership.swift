import Concurrency
import FleetModel

/// Which monitor-serverd leads, as this one knows it: any number of servers
/// watch the fleet, one holds `<prefix>/leader` under its election lease and
/// alone reports transitions and writes node states. Election by lease plus
/// compare-and-swap (the key is created only if absent): every server already
/// watches the whole prefix, so it sees the key go away (the leader stopped
/// and revoked its lease, or died and the lease ran out) and campaigns within
/// milliseconds, with no extra watch and no extra thread. Pure: fed the
/// session's lease, the key as the watch shows it and the campaign's results;
/// says when to campaign and when this server starts or stops leading.
/// Owned by `ServerDaemon`; `reset()` when the etcd cluster changes.
struct Leadership {
    /// What the caller does.
    enum Action: Equatable {
        /// Try to create the leader key under this lease.
        case campaign(lease: Int64)
        /// This server leads from now on.
        case lead
        /// This server no longer leads (why, for the journal).
        case stepDown(String)
        /// Another server leads now (a new holder of the key): its description.
        case follow(String)
    }

    /// How long after a failed campaign (etcd did not answer) to try again.
    static let retryDelay = 1.0

    /// How long a server waits before it may campaign when it starts while its
    /// own crashed predecessor (same host, process gone) still holds the key
    /// (the election TTL): the standbys that were already there go first, so a
    /// leader that crashes and is restarted by systemd within its lease's TTL
    /// hands over to a standby instead of racing it to the key.
    private let holdoff: Double
    private var holdoffUntil: MonotonicInstant?
    /// The predecessor's lease the hold-off is about: once another lease holds
    /// the key, the race it prevents is over.
    private var holdoffLease: Int64?

    init(holdoff: Double = 0) {
        self.holdoff = holdoff
    }

    /// This server's election lease; nil while the session has none.
    private(set) var lease: Int64?
    private(set) var isLeading = false
    /// The leader key as last seen: its lease and value; nil when absent, and
    /// `known` false until the first read says which.
    private(set) var holder: (lease: Int64, record: LeaderRecord?)?
    private var known = false
    private var campaigning = false
    private(set) var nextRetry: MonotonicInstant?

    /// Who leads, for STATUS= and logs: "this server", "<host> (pid N)" or nil.
    var leaderText: String? {
        if isLeading { return "this server" }
        guard let holder else { return nil }
        guard let record = holder.record, !record.server.isEmpty else { return "an unnamed server" }
        return "\(record.server) (pid \(record.pid))"
    }

    mutating func leaseGranted(_ id: Int64, now: MonotonicInstant) -> [Action] {
        lease = id
        return campaignIfVacant(now: now)
    }

    /// The election lease is gone (expired during an outage, revoked): the
    /// key under it is gone too, or will be, so this server stops leading now.
    mutating func leaseLost() -> [Action] {
        lease = nil
        campaigning = false
        return stepDown("its election lease was lost")
    }

    /// The leader key as the watch (or the first read) shows it: `value` nil
    /// when absent.
    /// `heldByDeadPredecessor`: the key names this host and a process that is
    /// gone (asked only for the first read).
    mutating func leaderKey(value: [UInt8]?, lease keyLease: Int64, now: MonotonicInstant,
                            heldByDeadPredecessor: Bool = false) -> [Action] {
        if !known, heldByDeadPredecessor, value != nil, keyLease != lease, holdoff > 0 {
            holdoffUntil = now + holdoff
            holdoffLease = keyLease
        } else if value != nil, keyLease != holdoffLease {
            holdoffUntil = nil
        }
        known = true
        guard let value else {
            holder = nil
            return stepDown("the leader key was deleted") + campaignIfVacant(now: now)
        }
        let previous = holder?.lease
        holder = (keyLease, LeaderRecord.parse(value))
        if let lease, keyLease == lease {
            campaigning = false
            return becomeLeader()
        }
        let down = stepDown("another server holds the leader key")
        guard previous != keyLease, let text = leaderText else { return down }
        return down + [.follow(text)]
    }

    /// The campaign's answer: `won` nil when etcd could not be asked.
    mutating func campaigned(lease campaignLease: Int64, won: Bool?, now: MonotonicInstant) -> [Action] {
        guard campaigning, campaignLease == lease else { return [] }
        campaigning = false
        switch won {
        case true?:
            // The key is ours now, whether or not the watch has shown it yet.
            holder = (campaignLease, nil)
            return becomeLeader()
        case false?:
            // Someone else was first; the watch shows who (or its delete, and we try again).
            return []
        case nil:
            nextRetry = now + Self.retryDelay
            return []
        }
    }

    /// A fenced write found the leader key not under this server's lease.
    mutating func fenced() -> [Action] {
        stepDown("the leader key is no longer under its lease")
    }

    mutating func deadlineReached(now: MonotonicInstant) -> [Action] {
        guard let due = nextRetry, now >= due else { return [] }
        nextRetry = nil
        return campaignIfVacant(now: now)
    }

    mutating func reset() {
        self = Leadership(holdoff: holdoff)
    }

    private mutating func campaignIfVacant(now: MonotonicInstant) -> [Action] {
        guard let lease, known, holder == nil, !campaigning, !isLeading else { return [] }
        if let until = holdoffUntil, now < until {
            nextRetry = until
            return []
        }
        holdoffUntil = nil
        campaigning = true
        nextRetry = nil
        return [.campaign(lease: lease)]
    }

    private mutating func becomeLeader() -> [Action] {
        guard !isLeading else { return [] }
        isLeading = true
        return [.lead]
    }

    private mutating func stepDown(_ why: String) -> [Action] {
        guard isLeading else { return [] }
        isLeading = false
        return [.stepDown(why)]
    }
}
