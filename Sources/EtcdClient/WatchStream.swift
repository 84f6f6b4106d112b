import Concurrency
import CCurl
import Foundation

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
        guard let object = JSONValue.decodeObject(line) else {
            throw EtcdError.malformedResponse("watch line is not a JSON object")
        }
        if let error = object["error"] as? [String: Any] {
            let code = Int(JSONValue.int64(error["grpc_code"]) ?? JSONValue.int64(error["http_code"]) ?? 14)
            let message = error["message"] as? String ?? "watch stream error"
            throw EtcdError.fromGateway(code: code, message: message, endpoint: endpoint, leaseID: nil)
        }
        guard let result = object["result"] as? [String: Any] else {
            throw EtcdError.malformedResponse("watch line without result")
        }
        let header = result["header"] as? [String: Any] ?? [:]
        var message = WatchMessage(revision: JSONValue.int64(header["revision"]) ?? 0)
        message.created = result["created"] as? Bool ?? false
        message.canceled = result["canceled"] as? Bool ?? false
        message.compactRevision = JSONValue.int64(result["compact_revision"]) ?? 0
        message.cancelReason = result["cancel_reason"] as? String ?? ""
        for event in result["events"] as? [[String: Any]] ?? [] {
            guard let kvJSON = event["kv"] as? [String: Any], let kv = KeyValue(json: kvJSON) else { continue }
            // A PUT event has no "type": zero values are omitted by the gateway.
            let kind: WatchEvent.Kind = (event["type"] as? String) == "DELETE" ? .delete : .put
            let previous = (event["prev_kv"] as? [String: Any]).flatMap(KeyValue.init(json:))
            message.events.append(WatchEvent(kind: kind, kv: kv, previous: previous))
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
public final class WatchStream: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let easy = CurlEasy()
    private let lock = NSLock()
    private var cancelled = false

    public init() {
        _ = CurlEasy.globalInit
        guard let m = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        multi = m
    }

    deinit { curl_multi_cleanup(multi) }

    /// Stops `run` within milliseconds; safe from any thread, idempotent.
    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
        curl_multi_wakeup(multi)
    }

    private var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled
    }

    /// Watches `key` (or the prefix) from `startRevision` on `endpoint`, calling
    /// `onMessage` for each message and `onIdle` at least every `tick` seconds
    /// (liveness for the watchdog). Returns when the stream ends; throws on errors
    /// (`compacted` when `startRevision` is gone) and `EtcdError.cancelled` after `cancel()`.
    public func run(endpoint: String, key: String, prefix: Bool, startRevision: Int64,
                    connectTimeout: Double = 1, tick: Double = 1,
                    onMessage: (WatchMessage) throws -> Void, onIdle: () -> Void = {}) throws {
        var create: [String: Any] = [
            "key": JSONValue.base64(key), "start_revision": String(startRevision),
            "prev_kv": true, "progress_notify": true,
        ]
        if prefix { create["range_end"] = JSONValue.base64(JSONValue.prefixEnd(key)) }
        // Hasleader: a member cut off from its leader refuses the stream instead of
        // leaving us waiting on it silently.
        easy.preparePost(url: endpoint + "/v3/watch", body: JSONValue.encode(["create_request": create]),
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
            if let object = JSONValue.decodeObject(received.bytes) {
                throw EtcdError.fromGatewayBody(object, status: status, endpoint: endpoint, leaseID: nil)
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
