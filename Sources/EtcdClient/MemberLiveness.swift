import Concurrency

/// When each etcd member last answered anything, shared by every client and
/// watch of one process: a watch probes its member only after this long a
/// silence from it, so an agent whose puts and keepalives already reach that
/// member every few seconds adds few probes. Thread-safe; lives as long as the
/// clients that share it.
public final class MemberLiveness: Sendable {
    private let lastAnswer = Locked<[String: Double]>([:])

    public init() {}

    /// `endpoint` answered at `time` (monotonic seconds).
    public func heard(from endpoint: String, at time: Double = MonotonicClock.now()) {
        lastAnswer.withLock { $0[endpoint] = max($0[endpoint] ?? 0, time) }
    }

    /// When `endpoint` last answered; nil if never.
    public func lastHeard(from endpoint: String) -> Double? {
        lastAnswer.withLock { $0[endpoint] }
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
