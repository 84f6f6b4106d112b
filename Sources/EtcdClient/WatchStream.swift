import CCurl
import Concurrency
import JSONStream

/// One message of a watch stream, as the gateway sends it.
public struct WatchMessage: Sendable {
    /// Store revision when etcd sent the message.
    public var revision: Int64
    public var created = false
    public var canceled = false
    public var compactRevision: Int64 = 0
    public var cancelReason = ""
    public var events: [WatchEvent] = []

    /// Parses one `{"result":{...}}` line; an `{"error":...}` line throws.
    static func parse(_ line: [UInt8], endpoint: String) throws -> WatchMessage {
        guard let decoded = try? WatchLine(line) else {
            throw EtcdError.malformedResponse("watch line is not a JSON object")
        }
        if let error = decoded.error {
            let code = Int(error.grpcCode ?? error.httpCode ?? 14)
            throw EtcdError.fromGateway(code: code, message: error.message ?? "watch stream error",
                                        endpoint: endpoint, leaseID: nil)
        }
        guard let message = decoded.result else {
            throw EtcdError.malformedResponse("watch line without result")
        }
        return message
    }

    /// The revision to resume from after this message. All events of one revision
    /// come in one message, so resuming per message never splits a transaction.
    func nextRevision(after current: Int64) -> Int64 {
        if let last = events.map(\.kv.modRevision).max() { return max(current, last + 1) }
        return current
    }
}

/// One streaming watch on one endpoint: a single HTTP request that etcd never ends
/// on its own. Owns a curl multi handle so that `cancel()` from another thread
/// wakes the blocked poll at once. Ends when the stream ends (etcd stopped: a
/// plain success), on error, or on cancel.
// @unchecked: the curl handles are used only by the thread in `run`; `cancel()`
// sets the locked flag and calls curl_multi_wakeup, which libcurl allows from
// any thread.
public final class WatchStream: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let easy = CurlEasy()
    private let cancelled = Locked(false)

    public init() {
        _ = CurlEasy.globalInit
        guard let m = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        multi = m
    }

    deinit { curl_multi_cleanup(multi) }

    /// Stops `run` within milliseconds; safe from any thread, idempotent.
    public func cancel() {
        cancelled.withLock { $0 = true }
        curl_multi_wakeup(multi)
    }

    private var isCancelled: Bool {
        cancelled.withLock { $0 }
    }

    /// Watches `key` (or the prefix) from `startRevision` on `endpoint`, calling
    /// `onMessage` for each message and `onIdle` at least every `tick` seconds
    /// (liveness for the watchdog). With a `probe`, a member that stops answering
    /// ends the stream within `probe.silence + probe.timeout` seconds, and
    /// `onHeard` runs each time a probe was answered. Returns when the stream
    /// ends; throws on errors (`compacted` when `startRevision` is gone) and
    /// `EtcdError.cancelled` after `cancel()`.
    /// `access` and `token`: the TLS files and the etcd auth token to present.
    public func run(endpoint: String, key: String, prefix: Bool, startRevision: Int64,
                    connectTimeout: Double = 1, tick: Double = 1, probe: WatchProbe? = nil,
                    access: EtcdAccess? = nil, token: String? = nil,
                    onMessage: (WatchMessage) throws -> Void, onIdle: () -> Void = {},
                    onHeard: () -> Void = {}) throws {
        let create = WatchCreateRequest(key: JSONValue.base64(key),
                                        rangeEnd: prefix ? JSONValue.base64(JSONValue.prefixEnd(key)) : nil,
                                        startRevision: String(startRevision))
        // Hasleader: a member cut off from its leader refuses the stream instead of
        // leaving us waiting on it silently.
        easy.preparePost(url: endpoint + "/v3/watch", body: JSONValue.encode(WatchRequest(createRequest: create)),
                         timeout: 0, connectTimeout: connectTimeout,
                         extraHeaders: ["Grpc-Metadata-Hasleader: true"], access: access, token: token)
        // The write callback only collects bytes; complete lines are parsed and
        // handed out from this loop, where errors can simply be thrown.
        let received = ByteBuffer()
        easy.onData = { chunk in
            received.bytes.append(contentsOf: chunk)
            received.lastByteAt = MonotonicClock.now()
            return true
        }
        func drainLines() throws {
            while let newline = received.bytes.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(received.bytes[..<newline])
                received.bytes.removeSubrange(...newline)
                if line.allSatisfy({ $0 == 32 || $0 == 13 }) { continue }
                let message = try WatchMessage.parse(line, endpoint: endpoint)
                // A canceled watch is over: etcd sends nothing more on it.
                if message.canceled {
                    if message.compactRevision > 0 { throw EtcdError.compacted(compactRevision: message.compactRevision) }
                    throw EtcdError.unavailable(endpoint: endpoint, reason: message.cancelReason.isEmpty
                                                ? "watch canceled" : message.cancelReason)
                }
                try onMessage(message)
            }
        }
        defer { easy.onData = { _ in true } }
        curl_multi_add_handle(multi, easy.handle)
        defer { curl_multi_remove_handle(multi, easy.handle) }
        var prober = probe.map { MemberProber(probe: $0, endpoint: endpoint, key: key, since: received.lastByteAt,
                                              access: access, token: token) }
        defer { prober?.abandon(multi) }

        var streamResult: CURLcode?
        while streamResult == nil {
            if isCancelled { throw EtcdError.cancelled }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            try drainLines()
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE else { continue }
                if msg.pointee.easy_handle == easy.handle {
                    streamResult = msg.pointee.data.result
                } else if prober?.owns(msg.pointee.easy_handle) == true {
                    try prober?.finish(msg.pointee.data.result, multi: multi)
                    onHeard()
                }
            }
            if streamResult != nil { break }
            // Sleeps until data, the tick, the next probe, or cancel's wakeup: no busy loop.
            let wait = try prober?.startIfDue(multi, lastByte: received.lastByteAt) ?? tick
            curl_multi_poll(multi, nil, 0, Int32(max(1, min(tick, wait) * 1000)), nil)
            onIdle()
        }
        if isCancelled { throw EtcdError.cancelled }
        if let code = streamResult, code != CURLE_OK {
            throw EtcdError.unavailable(endpoint: endpoint, reason: easy.failureReason(code))
        }
        let status = easy.responseCode
        if status != 200 {
            if let body = try? GatewayErrorBody(received.bytes) {
                throw EtcdError.fromGatewayBody(body, status: status, endpoint: endpoint, leaseID: nil)
            }
            throw EtcdError.unavailable(endpoint: endpoint, reason: "HTTP \(status)")
        }
        // A clean end (etcd stopped) is not "done": the caller reconnects.
    }
}

/// The probe side of one stream (see `WatchProbe`): a serializable one-key read
/// on its own connection to the same member, started after a silence, added to
/// the stream's multi handle so one poll serves both.
private struct MemberProber {
    let probe: WatchProbe
    let endpoint: String
    let body: [UInt8]
    let easy = CurlEasy()
    let access: EtcdAccess?
    let token: String?
    /// When the member last answered, as far as this stream knows.
    var lastHeard: Double
    var startedAt: Double?

    init(probe: WatchProbe, endpoint: String, key: String, since: Double, access: EtcdAccess?, token: String?) {
        self.probe = probe
        self.endpoint = endpoint
        self.lastHeard = since
        self.access = access
        self.token = token
        body = JSONValue.encode(KeyRequest(key: JSONValue.base64(key), limit: "1", serializable: true, countOnly: true))
    }

    func owns(_ handle: UnsafeMutableRawPointer?) -> Bool { handle == easy.handle }

    /// Starts the probe when the member has been silent for `probe.silence`
    /// (unless another watch's probe of the member is in flight: its answer
    /// counts for this one too); returns how long the caller may sleep before
    /// asking again. Throws when another watch's probe of the member went
    /// unanswered after everything this stream heard from it.
    mutating func startIfDue(_ multi: UnsafeMutableRawPointer, lastByte: Double) throws -> Double {
        let now = MonotonicClock.now()
        if let started = startedAt { return max(0.01, started + probe.timeout - now + 0.01) }
        lastHeard = max(lastHeard, lastByte, probe.liveness?.lastHeard(from: endpoint) ?? 0)
        if let silence = probe.liveness?.lastSilence(of: endpoint), silence > lastHeard {
            throw EtcdError.unavailable(endpoint: endpoint, reason:
                "member silent: a read got no answer within \(probe.timeout) s (another watch's probe)")
        }
        let due = lastHeard + probe.silence
        guard now >= due else { return due - now }
        // The claim lasts the probe's timeout and a little more for its stream
        // to see the end; a claim that runs out first costs one extra probe.
        if let liveness = probe.liveness, !liveness.claimProbe(of: endpoint, now: now, until: now + probe.timeout + 0.1) {
            return max(0.01, liveness.probeEnds(of: endpoint) - now + 0.01)
        }
        easy.preparePost(url: endpoint + "/v3/kv/range", body: body, timeout: probe.timeout,
                         connectTimeout: probe.timeout, access: access, token: token)
        curl_multi_add_handle(multi, easy.handle)
        startedAt = now
        return probe.timeout + 0.01
    }

    /// The probe ended: an answer counts as hearing from the member, anything
    /// else (timeout, refused, an error status) ends the stream.
    mutating func finish(_ code: CURLcode, multi: UnsafeMutableRawPointer) throws {
        curl_multi_remove_handle(multi, easy.handle)
        startedAt = nil
        let status = easy.responseCode
        let now = MonotonicClock.now()
        guard code == CURLE_OK, status == 200 else {
            // An error status is an answer (an expired token, say): the member
            // lives, and only this stream starts again.
            probe.liveness?.probeEnded(of: endpoint, silent: code != CURLE_OK, at: now)
            let why = code != CURLE_OK ? easy.failureReason(code) : "HTTP \(status)"
            throw EtcdError.unavailable(endpoint: endpoint, reason:
                "member silent: a read got no answer within \(probe.timeout) s (\(why))")
        }
        lastHeard = now
        probe.liveness?.probeEnded(of: endpoint, silent: false, at: now)
    }

    /// Removes an unfinished probe when the stream ends.
    func abandon(_ multi: UnsafeMutableRawPointer) {
        guard startedAt != nil else { return }
        curl_multi_remove_handle(multi, easy.handle)
        // Neither answered nor silent: the other watches probe for themselves.
        probe.liveness?.releaseProbe(of: endpoint)
    }
}

/// Bytes collected by the write callback of one stream.
private final class ByteBuffer {
    var bytes: [UInt8] = []
    /// When the last byte arrived (monotonic); the stream's start before any.
    var lastByteAt = MonotonicClock.now()
}

// MARK: Watch wire format

struct WatchRequest: Encodable {
    var createRequest: WatchCreateRequest
    private enum CodingKeys: String, CodingKey { case createRequest = "create_request" }
}

/// Always with the previous value (LEFT vs DEAD needs it) and progress
/// notifications (resume revisions while nothing changes).
struct WatchCreateRequest: Encodable {
    var key: String
    var rangeEnd: String?
    var startRevision: String
    var prevKv = true
    var progressNotify = true

    private enum CodingKeys: String, CodingKey {
        case key, rangeEnd = "range_end", startRevision = "start_revision"
        case prevKv = "prev_kv", progressNotify = "progress_notify"
    }
}

/// One line of the stream: `{"result":{...}}` or `{"error":{...}}`. Fields are
/// read leniently, in one pass; decoding throws only when the line is not a JSON object.
private struct WatchLine {
    var error: GatewayErrorBody.Fields?
    var result: WatchMessage?

    init(_ line: [UInt8]) throws {
        self = try JSONValue.decode(line) { reader in
            var decoded = WatchLine()
            try reader.object { reader, key in
                switch key {
                case "error": decoded.error = try reader.ifObject { try GatewayErrorBody.Fields(reading: &$0) }
                case "result": decoded.result = try reader.ifObject(Self.result)
                default: try reader.skip()
                }
            }
            return decoded
        }
    }

    private init() {}

    private static func result(_ reader: inout JSONReader) throws -> WatchMessage {
        var message = WatchMessage(revision: 0)
        try reader.object { reader, key in
            switch key {
            case "header": message.revision = try reader.ifObject { try ReplyHeader(reading: &$0) }?.revision ?? 0
            case "created": message.created = try reader.bool() ?? false
            case "canceled": message.canceled = try reader.bool() ?? false
            case "compact_revision": message.compactRevision = try reader.int64() ?? 0
            case "cancel_reason": message.cancelReason = try reader.string() ?? ""
            case "events": message.events = try reader.objects(Self.event)?.compactMap { $0 } ?? []
            default: try reader.skip()
            }
        }
        return message
    }

    /// One event; nil when its kv is missing or has no key (skipped, as before).
    private static func event(_ reader: inout JSONReader) throws -> WatchEvent? {
        var kv: KeyValue?, previous: KeyValue?
        var kind = WatchEvent.Kind.put
        try reader.object { reader, key in
            switch key {
            case "kv": kv = try reader.ifObject(DecodedKeyValue.read) ?? nil
            case "prev_kv": previous = try reader.ifObject(DecodedKeyValue.read) ?? nil
            // A PUT event has no "type": zero values are omitted by the gateway.
            case "type": kind = try reader.string() == "DELETE" ? .delete : .put
            default: try reader.skip()
            }
        }
        return kv.map { WatchEvent(kind: kind, kv: $0, previous: previous) }
    }
}
