import Concurrency

/// When each etcd member last answered anything, shared by every client and
/// watch of one process: a watch probes its member only after this long a
/// silence from it, so an agent whose puts and keepalives already reach that
/// member every few seconds adds few probes. Watches of one member also share
/// their probes: while one is in flight the others wait for its answer instead
/// of asking the same question (the agent's two watches fell due at the same
/// instant, after the same keepalive, and doubled every probe), and a probe
/// that got no answer ends them all. Thread-safe; lives as long as the clients
/// that share it.
public final class MemberLiveness: Sendable {
    private struct Member {
        var lastAnswer: Double?
        /// A probe in flight until then (its start plus its timeout).
        var probeUntil = 0.0
        /// When a probe last went unanswered.
        var lastSilence: Double?
    }
    private let members = Locked<[String: Member]>([:])

    public init() {}

    /// `endpoint` answered at `time` (monotonic seconds).
    public func heard(from endpoint: String, at time: Double = MonotonicClock.now()) {
        members.withLock { $0[endpoint, default: Member()].lastAnswer = max($0[endpoint]?.lastAnswer ?? 0, time) }
    }

    /// When `endpoint` last answered; nil if never.
    public func lastHeard(from endpoint: String) -> Double? {
        members.withLock { $0[endpoint]?.lastAnswer }
    }

    /// Takes the probe of `endpoint` until `until`; false while another
    /// watch's probe is in flight (wait for `probeEnds` and look again).
    func claimProbe(of endpoint: String, now: Double, until: Double) -> Bool {
        members.withLock {
            guard ($0[endpoint]?.probeUntil ?? 0) <= now else { return false }
            $0[endpoint, default: Member()].probeUntil = until
            return true
        }
    }

    /// The probe of `endpoint` ended, answered or (`silent`) not.
    func probeEnded(of endpoint: String, silent: Bool, at time: Double) {
        members.withLock {
            $0[endpoint, default: Member()].probeUntil = 0
            if silent { $0[endpoint]?.lastSilence = time } else { $0[endpoint]?.lastAnswer = time }
        }
    }

    /// A probe of `endpoint` was abandoned (its stream ended first).
    func releaseProbe(of endpoint: String) {
        members.withLock { $0[endpoint]?.probeUntil = 0 }
    }

    /// When the in-flight probe of `endpoint` ends at the latest (0: none).
    func probeEnds(of endpoint: String) -> Double {
        members.withLock { $0[endpoint]?.probeUntil ?? 0 }
    }

    /// When a probe of `endpoint` last went unanswered; nil if never.
    func lastSilence(of endpoint: String) -> Double? {
        members.withLock { $0[endpoint]?.lastSilence }
    }
}

/// How a watch makes sure its member still answers. etcd sends nothing on a
/// quiet watch, so a frozen member (SIGSTOP), a link that drops packets or a
/// host that vanished look exactly like a key nobody writes; TCP keepalives do
/// not help against a frozen process (its kernel still answers them). After
/// `silence` seconds without a byte from the member (on the stream or, through
/// `liveness`, to any client of this process), a serializable read of the
/// watched key goes to the same member on a second connection driven by the
/// same poll loop; no answer within `timeout` ends the stream as unavailable
/// and `ResumableWatch` resumes on the next member from the next revision.
/// Cost: at most one small read per `silence` seconds per quiet watch.
public struct WatchProbe: Sendable {
    public var silence: Double
    public var timeout: Double
    public var liveness: MemberLiveness?

    public init(silence: Double = 2, timeout: Double = 1.5, liveness: MemberLiveness? = nil) {
        self.silence = silence
        self.timeout = timeout
        self.liveness = liveness
    }
}
