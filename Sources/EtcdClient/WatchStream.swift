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
    /// (liveness for the watchdog). Returns when the stream ends; throws on errors
    /// (`compacted` when `startRevision` is gone) and `EtcdError.cancelled` after `cancel()`.
    public func run(endpoint: String, key: String, prefix: Bool, startRevision: Int64,
                    connectTimeout: Double = 1, tick: Double = 1,
                    onMessage: (WatchMessage) throws -> Void, onIdle: () -> Void = {}) throws {
        let create = WatchCreateRequest(key: JSONValue.base64(key),
                                        rangeEnd: prefix ? JSONValue.base64(JSONValue.prefixEnd(key)) : nil,
                                        startRevision: String(startRevision))
        // Hasleader: a member cut off from its leader refuses the stream instead of
        // leaving us waiting on it silently.
        easy.preparePost(url: endpoint + "/v3/watch", body: JSONValue.encode(WatchRequest(createRequest: create)),
                         timeout: 0, connectTimeout: connectTimeout,
                         extraHeaders: ["Grpc-Metadata-Hasleader: true"])
        // The write callback only collects bytes; complete lines are parsed and
        // handed out from this loop, where errors can simply be thrown.
        let received = ByteBuffer()
        easy.onData = { chunk in received.bytes.append(contentsOf: chunk); return true }
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

        var running: Int32 = 1
        while running > 0 {
            if isCancelled { throw EtcdError.cancelled }
            curl_multi_perform(multi, &running)
            try drainLines()
            if running == 0 { break }
            // Sleeps until data, the tick, or cancel's wakeup: no busy loop.
            curl_multi_poll(multi, nil, 0, Int32(tick * 1000), nil)
            onIdle()
        }
        if isCancelled { throw EtcdError.cancelled }
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            if msg.pointee.msg == CURLMSG_DONE {
                let code = msg.pointee.data.result
                if code != CURLE_OK {
                    throw EtcdError.unavailable(endpoint: endpoint, reason: CurlEasy.reason(code))
                }
            }
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

/// Bytes collected by the write callback of one stream.
private final class ByteBuffer {
    var bytes: [UInt8] = []
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
