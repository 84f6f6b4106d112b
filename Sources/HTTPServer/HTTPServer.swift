import CMicroHTTPD
import Glibc

/// A read-only HTTP listener: libmicrohttpd parses requests on its own threads
/// and hands each GET's path to `route`, which must only read immutable or
/// lock-protected data (it runs on libmicrohttpd's threads, never on the
/// caller's loop). Anything but GET and HEAD is answered 405 here. Owns the
/// libmicrohttpd daemon and its threads; ends with `stop()` (also on deinit),
/// which closes every connection and joins the threads.
public final class HTTPServer: @unchecked Sendable {
    // @unchecked: `server` is written once in init and read once in stop, both
    // by the owner; libmicrohttpd's threads only see `router`, which is Sendable.

    /// Limits that keep slow or many clients from holding more than they should.
    /// Connections are polled (epoll), not a thread each: an open connection
    /// costs its memory pool only (`requestBytes`), so 512 of them at most 8 MiB.
    /// A slow client that keeps trickling bytes is not cut by the idle timeout
    /// (libmicrohttpd 0.9.75 has no whole-request deadline): the per-address
    /// limit keeps one address from taking more than half of the connections.
    public struct Limits: Sendable {
        public var threads: UInt32 = 2
        public var connections: UInt32 = 512
        public var connectionsPerClient: UInt32 = 256
        /// Idle seconds before a connection (a half-sent request included) is closed.
        public var timeoutSeconds: UInt32 = 5
        /// Bytes for one request's line and headers; larger is answered 4xx.
        public var requestBytes: Int = 16 * 1024
        public init() {}
    }

    /// Why the listener could not start.
    public struct StartError: Error, CustomStringConvertible {
        public let address: String
        public let errorNumber: Int32
        public var description: String {
            errorNumber == EINVAL ? "\(address): not an IP address and port"
                : "cannot listen on \(address): \(String(cString: strerror(errorNumber)))"
        }
    }

    /// The routing function, boxed so C can hold a pointer to it.
    private final class Router: Sendable {
        let route: @Sendable (String) -> HTTPResponse
        init(_ route: @escaping @Sendable (String) -> HTTPResponse) { self.route = route }
    }

    private let router: Router
    private var server: OpaquePointer?
    /// The port bound (the one asked, or the one the kernel chose for 0).
    public let port: UInt16

    public init(host: String, port: UInt16, limits: Limits = Limits(),
                route: @escaping @Sendable (_ path: String) -> HTTPResponse) throws {
        router = Router(route)
        var options = cmhd_options(host: nil, port: port, threads: limits.threads, connection_limit: limits.connections,
                                   per_ip_limit: limits.connectionsPerClient, timeout_sec: limits.timeoutSeconds,
                                   connection_memory: limits.requestBytes)
        var errorNumber: Int32 = 0
        let context = Unmanaged.passUnretained(router).toOpaque()
        let started = host.withCString { cHost -> OpaquePointer? in
            options.host = cHost
            return cmhd_start(&options, HTTPServer.answer, context, &errorNumber)
        }
        guard let started else {
            throw StartError(address: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)", errorNumber: errorNumber)
        }
        server = started
        self.port = cmhd_port(started)
    }

    deinit { stop() }

    /// Closes the listener and every connection; returns when no request runs any more.
    public func stop() {
        guard let server else { return }
        self.server = nil
        cmhd_stop(server)
    }

    /// libmicrohttpd's callback, on its threads.
    private static let answer: cmhd_handler = { context, method, path, reply in
        guard let context, let reply else { return }
        let router = Unmanaged<Router>.fromOpaque(context).takeUnretainedValue()
        let verb = method.map { String(cString: $0) } ?? ""
        let response: HTTPResponse
        if verb == "GET" || verb == "HEAD" {
            // libmicrohttpd hands the path without the query string.
            response = router.route(path.map { String(cString: $0) } ?? "/")
        } else {
            response = .text(405, "only GET is served\n")
        }
        reply.pointee.status = UInt32(response.status)
        reply.pointee.content_type = response.contentType.pointer
        reply.pointee.compress = response.compressible ? 1 : 0
        reply.pointee.allow = response.status == 405 ? HTTPResponse.ContentType.allowGet.pointer : nil
        let count = response.body.count
        if count > 0, let buffer = malloc(count) {
            response.body.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: count) }
            reply.pointee.body = buffer.assumingMemoryBound(to: CChar.self)
            reply.pointee.length = count
        }
    }
}
