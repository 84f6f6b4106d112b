import Concurrency
import FleetModel

/// What the HTTP listener serves, as the loop last published it: the fleet
/// view in wall-clock seconds and the server's own health. Immutable once
/// built; built only by the loop (`ServerDaemon`), read only by request
/// handlers through a `FleetSnapshotBox`.
public struct FleetSnapshot: Sendable {
    public var view: FleetView
    /// The leading server's record, as this server last saw the leader key.
    public var leader: LeaderRecord?
    /// This server leads (it alone reports transitions and records states).
    public var leading: Bool
    /// The first read of etcd is done.
    public var synced: Bool
    /// The heartbeat watch is connected (nil: not yet known).
    public var watchConnected: Bool?
    /// Wall-clock seconds since when the view is frozen (blind), nil while live.
    public var frozenSince: Double?
    /// Wall-clock seconds of the watch's latest update.
    public var lastEventAt: Double?
    /// etcd requests that failed since the start (watch breaks, failed writes and compactions).
    public var etcdErrors: Int
    /// Transitions this server has seen per node and event since it started
    /// (every server sees them; only the leader reports them).
    public var transitions: [String: [String: Int]]
    public var staleAfterRounds: Int
    /// Wall-clock seconds the loop built this snapshot.
    public var publishedAt: Double

    public init(view: FleetView, leader: LeaderRecord? = nil, leading: Bool = false, synced: Bool = false,
                watchConnected: Bool? = nil, frozenSince: Double? = nil, lastEventAt: Double? = nil,
                etcdErrors: Int = 0, transitions: [String: [String: Int]] = [:], staleAfterRounds: Int = 3,
                publishedAt: Double) {
        self.view = view
        self.leader = leader
        self.leading = leading
        self.synced = synced
        self.watchConnected = watchConnected
        self.frozenSince = frozenSince
        self.lastEventAt = lastEventAt
        self.etcdErrors = etcdErrors
        self.transitions = transitions
        self.staleAfterRounds = staleAfterRounds
        self.publishedAt = publishedAt
    }

    /// Snapshots older than this mean the loop stopped publishing: it republishes
    /// at least every `FleetSnapshotBox.refresh` seconds even when nothing changed.
    public static let maxAge = 15.0

    /// Why the server cannot be trusted for the fleet's state now; nil when it can.
    public func unhealthy(now: Double) -> String? {
        if !synced { return "not synced: the first read of etcd has not completed" }
        if let since = frozenSince {
            return "view frozen since \(WallClock.text(since)): etcd unreachable, watch retrying"
        }
        if watchConnected == false { return "the heartbeat watch is not connected" }
        if now - publishedAt > Self.maxAge {
            return "the server's loop has not published the view for \(Int(now - publishedAt)) s"
        }
        return nil
    }
}

/// The one place the loop hands snapshots to the HTTP handlers: the loop
/// replaces the snapshot, handlers take a reference to it (a copy of a few
/// pointers) and render from that without holding the lock. Ends with its last
/// reference.
public final class FleetSnapshotBox: Sendable {
    /// Seconds between republications when nothing changed (so readers can
    /// tell a stuck loop from a quiet fleet).
    public static let refresh = 5.0
    /// Seconds at least between two publications while the fleet keeps changing.
    public static let coalesce = 0.25

    private let snapshot = Locked<FleetSnapshot?>(nil)

    public init() {}

    public func publish(_ new: FleetSnapshot) {
        snapshot.withLock { $0 = new }
    }

    /// The latest snapshot; nil before the loop published one.
    public func read() -> FleetSnapshot? {
        snapshot.withLock { $0 }
    }
}
