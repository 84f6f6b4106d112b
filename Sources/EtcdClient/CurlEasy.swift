import CCurl

/// Owns one libcurl easy handle and the bytes of its current transfer. Reused
/// across requests so that the TCP connection to etcd stays open (a config put
/// then costs one round trip, not a handshake). Not thread-safe: one owner.
/// The handle is cleaned up when the object is released.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    /// Receives body bytes; replaced per transfer.
    var onData: ([UInt8]) -> Bool = { _ in true }

    /// libcurl must be initialised once before any thread uses it.
    static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    init() {
        _ = CurlEasy.globalInit
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        handle = h
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headers { curl_slist_free_all(headers) }
    }

    /// Prepares a JSON POST. `timeout` 0 means no overall limit (streams).
    func preparePost(url: String, body: [UInt8], timeout: Double, connectTimeout: Double,
                     extraHeaders: [String] = []) {
        curl_easy_reset(handle)
        if let headers { curl_slist_free_all(headers) }
        headers = nil
        for h in ["Content-Type: application/json", "Expect:"] + extraHeaders {
            headers = curl_slist_append(headers, h)
        }
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        // Threads: signals must not be used for timeouts.
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // An inherited http_proxy would otherwise hijack loopback etcd traffic.
        ccurl_setopt_string(handle, CURLOPT_PROXY, "")
        ccurl_setopt_long(handle, CURLOPT_POST, 1)
        ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
        body.withUnsafeBufferPointer { buf in
            // COPYPOSTFIELDS copies: the buffer may go away after this call.
            _ = buf.baseAddress.map { ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0)) }
        }
        ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        // Detect a silently dead peer (partition) on long-lived streams.
        ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        ccurl_setopt_long(handle, CURLOPT_TCP_KEEPIDLE, 5)
        ccurl_setopt_long(handle, CURLOPT_TCP_KEEPINTVL, 2)
        ccurl_setopt_write_function(handle) { ptr, size, count, userdata in
            guard let ptr, let userdata else { return 0 }
            let me = Unmanaged<CurlEasy>.fromOpaque(userdata).takeUnretainedValue()
            let n = size * count
            let chunk = [UInt8](UnsafeRawBufferPointer(start: ptr, count: n))
            // Returning less than n aborts the transfer (used to stop a stream).
            return me.onData(chunk) ? n : 0
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Runs a prepared transfer to completion (blocking) and returns status and body.
    func perform() -> (CURLcode, Int, [UInt8]) {
        var body: [UInt8] = []
        onData = { [handle] chunk in
            // The announced size, once: a 6 MB range reply is not copied while it grows.
            if body.isEmpty {
                var length: curl_off_t = -1
                if ccurl_getinfo_off_t(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK, length > 0 {
                    body.reserveCapacity(Int(min(length, 256 << 20)))
                }
            }
            body.append(contentsOf: chunk)
            return true
        }
        let code = curl_easy_perform(handle)
        onData = { _ in true }
        return (code, responseCode, body)
    }

    var responseCode: Int {
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    /// A short, operator-facing reason for a transport failure.
    static func reason(_ code: CURLcode) -> String {
        switch code {
        case CURLE_COULDNT_CONNECT: return "connection refused"
        case CURLE_OPERATION_TIMEDOUT: return "timed out"
        case CURLE_COULDNT_RESOLVE_HOST: return "host not found"
        case CURLE_GOT_NOTHING: return "empty reply"
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR: return "connection reset"
        case CURLE_PARTIAL_FILE: return "connection closed mid-reply"
        default: return String(cString: curl_easy_strerror(code))
        }
    }
}
