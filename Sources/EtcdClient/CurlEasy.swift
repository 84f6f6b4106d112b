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
    /// libcurl's own words about the last failure (CURLOPT_ERRORBUFFER): the
    /// TLS reason ("unable to get local issuer certificate", ...).
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// The current transfer speaks TLS without a client certificate: a reset
    /// right after the handshake then most likely means etcd wants one.
    private var tlsWithoutCertificate = false

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
        errorBuffer.deallocate()
    }

    /// Prepares a JSON POST. `timeout` 0 means no overall limit (streams).
    /// `access`: TLS files to present and trust; `token`: the etcd auth token.
    func preparePost(url: String, body: [UInt8], timeout: Double, connectTimeout: Double,
                     extraHeaders: [String] = [], access: EtcdAccess? = nil, token: String? = nil) {
        curl_easy_reset(handle)
        if let headers { curl_slist_free_all(headers) }
        headers = nil
        for h in ["Content-Type: application/json", "Expect:"] + extraHeaders + (token.map { ["Authorization: \($0)"] } ?? []) {
            headers = curl_slist_append(headers, h)
        }
        errorBuffer[0] = 0
        ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        // curl_easy_reset keeps the connection cache: a TLS session is reused,
        // not handshaken again per request.
        tlsWithoutCertificate = url.hasPrefix("https:") && access?.certFile == nil
        if let ca = access?.caFile { ccurl_setopt_string(handle, CURLOPT_CAINFO, ca) }
        if let cert = access?.certFile { ccurl_setopt_string(handle, CURLOPT_SSLCERT, cert) }
        if let key = access?.keyFile { ccurl_setopt_string(handle, CURLOPT_SSLKEY, key) }
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

    /// A transport failure in one line: the TLS cause in operator terms when
    /// there is one, with libcurl's own detail.
    func failureReason(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        if tlsWithoutCertificate, code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING {
            return "TLS: etcd closed the connection after the handshake: it requires a client certificate "
                + "([Etcd] CertFile/KeyFile are not set)"
        }
        return Self.tlsReason(code, detail: detail) ?? Self.reason(code)
    }

    /// What a TLS failure means for the operator: whose certificate, and which
    /// setting to look at. Nil when `code` is no TLS failure.
    static func tlsReason(_ code: CURLcode, detail: String) -> String? {
        let text = detail.lowercased()
        let cause: String
        if text.contains("certificate required") || text.contains("alert bad certificate") || text.contains("bad certificate")
            || text.contains("alert handshake failure") || text.contains("alert unknown ca") {
            cause = "TLS: etcd refused this client (client certificate required or not trusted: [Etcd] CertFile/KeyFile)"
        } else if code == CURLE_PEER_FAILED_VERIFICATION {
            if text.contains("expired") {
                cause = "TLS: etcd's certificate has expired"
            } else if text.contains("subject name") || text.contains("does not match") || text.contains("hostname") {
                cause = "TLS: etcd's certificate does not match the endpoint's host name"
            } else {
                cause = "TLS: etcd's certificate is signed by an unknown CA ([Etcd] CAFile)"
            }
        } else if code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE {
            cause = "TLS: a certificate file cannot be used ([Etcd] CAFile/CertFile/KeyFile)"
        } else if text.contains("wrong version number") {
            cause = "TLS: the endpoint does not speak TLS (http:// instead of https://?)"
        } else if code == CURLE_SSL_CONNECT_ERROR {
            cause = "TLS handshake failed"
        } else {
            return nil
        }
        return detail.isEmpty ? cause : "\(cause): \(detail)"
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
