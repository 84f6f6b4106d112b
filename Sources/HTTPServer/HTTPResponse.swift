/// One answer: status, content type and body, built by a route.
public struct HTTPResponse: Sendable {
    /// The content types served, as static C strings libmicrohttpd can keep.
    public struct ContentType: @unchecked Sendable {
        // @unchecked: the pointer is to a static string, immutable for the whole run.
        let pointer: UnsafePointer<CChar>
        private init(_ text: StaticString) {
            pointer = UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
        }
        public static let text = ContentType("text/plain; charset=utf-8")
        /// Prometheus' text exposition format, version 0.0.4.
        public static let prometheus = ContentType("text/plain; version=0.0.4; charset=utf-8")
        public static let html = ContentType("text/html; charset=utf-8")
        public static let json = ContentType("application/json")
        /// Not a content type: the Allow header's value for 405 answers.
        static let allowGet = ContentType("GET, HEAD")
    }

    public var status: Int
    public var contentType: ContentType
    public var body: [UInt8]
    /// Sent gzipped to clients that accept it, when large enough to gain.
    public var compressible: Bool

    public init(status: Int, contentType: ContentType, body: [UInt8], compressible: Bool = false) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.compressible = compressible
    }

    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: .text, body: Array(text.utf8))
    }
}
