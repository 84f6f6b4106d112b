import Concurrency
import FleetModel

/// The verdicts the watch alone cannot justify, held until etcd is asked:
/// STALE waits first for a word from the watch's member after the verdict (a
/// frozen or unreachable member looks exactly like a fleet that stopped
/// writing: the watch's probe answers within seconds, or the watch breaks and
/// the verdict is dropped), then for etcd's alarm list (a full etcd silences
/// every agent at once, which is no fault of theirs); DEAD waits for the node's
/// lease (another writer's delete looks like a lease expiry on the watch). Pure: it is fed transitions
/// and etcd's answers with the time, and says what to log, ask, pardon and tell.
/// Owned by `ServerDaemon`; `reset()` when the etcd cluster changes.
struct VerdictGate {
    /// A question for etcd (the server's maintenance worker asks it).
    enum Request: Equatable {
        case checkAlarms
        case checkLease(node: String, lease: Int64)
    }

    /// Something to say once.
    enum Notice: Equatable {
        /// NOSPACE raised: this many nodes without a new round are not reported STALE.
        case etcdFull(silenced: Int)
        case etcdWritable
        /// The alarm list could not be read (why): a NOSPACE alarm cannot be
        /// told from hung agents, so STALE verdicts stand. Said once per episode.
        case alarmsUnreadable(reason: String)
        case alarmsReadable
        /// The node's key was deleted while its lease lived: not reported DEAD.
        case tampered(node: String)
    }

    /// What the caller does with one input, in this order: pardon, log, tell, ask.
    struct Output: Equatable {
        var pardon: [String] = []
        var log: [FleetState.Transition] = []
        var notices: [Notice] = []
        var requests: [Request] = []
    }

    /// How often the alarm list is read while NOSPACE is raised, to notice recovery.
    static let alarmRecheck = 5.0

    /// The NOSPACE alarm is raised: agents' rounds cannot be written.
    private(set) var etcdFull = false
    /// STALE verdicts waiting for the watch to hear from its member, with when.
    private var unconfirmedStale: [(transition: FleetState.Transition, at: MonotonicInstant)] = []
    /// STALE verdicts waiting for the alarm list.
    private var heldStale: [FleetState.Transition] = []
    private var alarmCheckPending = false
    /// The last read of the alarm list failed.
    private var alarmsUnreadable = false
    private var nextAlarmCheck: MonotonicInstant?
    private var heldDead: [String: FleetState.Transition] = [:]
    /// Nodes whose lease lookup is in flight: one at a time per node, and only
    /// its answer counts (a takeover can report a DEAD the watch also gave).
    private var checking = Set<String>()
    /// Nodes whose key was deleted while their lease lived: when to ask again
    /// (their agent restores the key at once; one that does not dies with its lease).
    private var leaseRechecks: [String: (lease: Int64, at: MonotonicInstant)] = [:]

    var nextDeadline: MonotonicInstant? {
        ([nextAlarmCheck] + leaseRechecks.values.map(\.at)).compactMap { $0 }.min()
    }

    /// Transitions from the fleet state at `now`. `lease` gives a node's own
    /// lease (from its rounds) when known: without one a DEAD cannot be checked and stands.
    mutating func transitions(_ transitions: [FleetState.Transition], now: MonotonicInstant,
                              lease: (String) -> Int64?) -> Output {
        var out = Output()
        for t in transitions {
            switch t.event {
            case .dead:
                guard let lease = lease(t.node), lease != 0 else { out.log.append(t); continue }
                heldDead[t.node] = t
                if checking.insert(t.node).inserted { out.requests.append(.checkLease(node: t.node, lease: lease)) }
            case .alive where heldDead.removeValue(forKey: t.node) != nil:
                // Its key is back under its lease: the delete was another writer's.
                out.notices.append(.tampered(node: t.node))
            case .alive where leaseRechecks.removeValue(forKey: t.node) != nil:
                break // said when the lease was found alive
            case .alive where dropHeldStale(t.node):
                break // its STALE was never reported: coming back is no news
            case .stale where etcdFull:
                out.pardon.append(t.node)
            case .stale:
                unconfirmedStale.append((t, now))
            default:
                out.log.append(t)
            }
        }
        return out
    }

    /// Forgets a STALE verdict of `node` not reported yet; true if there was one.
    private mutating func dropHeldStale(_ node: String) -> Bool {
        let before = unconfirmedStale.count + heldStale.count
        unconfirmedStale.removeAll { $0.transition.node == node }
        heldStale.removeAll { $0.node == node }
        return unconfirmedStale.count + heldStale.count < before
    }

    /// The watch delivered something (events, a probe's answer) at `now`: the
    /// STALE verdicts reached before it were not blindness; they go on to the
    /// alarm check.
    mutating func watchHeard(now: MonotonicInstant) -> Output {
        var out = Output()
        let confirmed = unconfirmedStale.filter { $0.at < now }
        guard !confirmed.isEmpty else { return out }
        unconfirmedStale.removeAll { $0.at < now }
        heldStale += confirmed.map(\.transition)
        if !alarmCheckPending {
            alarmCheckPending = true
            out.requests.append(.checkAlarms)
        }
        return out
    }

    /// The watch broke: the STALE verdicts it never confirmed came from a blind
    /// view, so they are dropped (pardoned) rather than reported.
    mutating func watchLost() -> Output {
        var out = Output()
        out.pardon = unconfirmedStale.map(\.transition.node)
        unconfirmedStale = []
        return out
    }

    /// The alarm list (nil: it could not be read). `isStale` says whether a held
    /// node is still stale (its rounds may have resumed meanwhile).
    mutating func alarmsRead(noSpace: Bool?, failure: String? = nil, now: MonotonicInstant,
                             isStale: (String) -> Bool) -> Output {
        var out = Output()
        alarmCheckPending = false
        if let failure, !alarmsUnreadable {
            out.notices.append(.alarmsUnreadable(reason: failure))
        } else if noSpace != nil, alarmsUnreadable {
            out.notices.append(.alarmsReadable)
        }
        if noSpace != nil { alarmsUnreadable = false } else if failure != nil { alarmsUnreadable = true }
        let held = heldStale.filter { isStale($0.node) }
        heldStale = []
        if noSpace == true {
            out.pardon = held.map(\.node)
            if !etcdFull {
                etcdFull = true
                out.notices.append(.etcdFull(silenced: held.count))
            }
            nextAlarmCheck = now + Self.alarmRecheck
            return out
        }
        if noSpace == false && etcdFull {
            etcdFull = false
            nextAlarmCheck = nil
            out.notices.append(.etcdWritable)
        }
        // Not full, or the list could not be read: the verdicts stand.
        out.log = held
        return out
    }

    /// etcd answered about a node whose key disappeared (`known` false: it could
    /// not be asked). A lease that is gone makes the held DEAD true; a live one
    /// means someone else deleted the key, asked again when the lease would run out.
    mutating func leaseChecked(node: String, lease: Int64, ttl: Int64?, known: Bool, now: MonotonicInstant,
                               stillDead: Bool) -> Output {
        var out = Output()
        guard checking.remove(node) != nil else { return out } // not asked, or already answered
        let held = heldDead.removeValue(forKey: node)
        guard stillDead else { return out } // back meanwhile
        if known, let ttl {
            if held != nil { out.notices.append(.tampered(node: node)) }
            leaseRechecks[node] = (lease, now + Double(ttl) + 1)
            return out
        }
        out.log = [held ?? FleetState.Transition(node: node, event: .dead, detail: "lease expired", state: .dead)]
        return out
    }

    /// Due alarm re-reads and lease re-checks.
    mutating func deadlineReached(now: MonotonicInstant) -> Output {
        var out = Output()
        for (node, recheck) in leaseRechecks.sorted(by: { $0.key < $1.key }) where now >= recheck.at {
            leaseRechecks[node] = nil
            if checking.insert(node).inserted { out.requests.append(.checkLease(node: node, lease: recheck.lease)) }
        }
        if let due = nextAlarmCheck, now >= due {
            nextAlarmCheck = now + Self.alarmRecheck
            if !alarmCheckPending {
                alarmCheckPending = true
                out.requests.append(.checkAlarms)
            }
        }
        return out
    }

    /// Another etcd cluster (and a new maintenance worker): nothing held or
    /// asked means anything there.
    mutating func reset() {
        self = VerdictGate()
    }
}
