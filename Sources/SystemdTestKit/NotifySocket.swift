import Glibc
import XCTest

/// A datagram socket standing in for systemd's notification socket.
///
/// Owns the socket and, for a path socket, the temporary directory holding
/// it; ``close()`` removes both. Reads block for at most two seconds so a
/// missing datagram fails the test instead of hanging it.
public final class NotifySocket: Sendable {
    /// What to put in `NOTIFY_SOCKET`: an absolute path, or `@name` for an
    /// abstract socket.
    public let address: String
    private let fd: Int32
    private let directory: String?

    /// Binds a socket at `<temp dir>/notify.sock`, or an abstract one; a read
    /// gives up after `receiveTimeout` seconds.
    public init(abstract: Bool = false, receiveTimeout: Double = 2) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(errno) }
        let name: [UInt8]
        if abstract {
            let label = "monitor-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            address = "@" + label
            directory = nil
            name = [0] + Array(label.utf8)  // leading NUL: Linux abstract namespace
        } else {
            var template = Array("/tmp/notify-test-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw POSIXError(errno) }
            directory = String(cString: made)
            address = directory! + "/notify.sock"
            name = Array(address.utf8)
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        precondition(name.count < capacity, "socket path too long")
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: name)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(errno) }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram as text.
    public func receive(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else {
            XCTFail("no datagram within 2 s: \(String(cString: strerror(errno)))", file: file, line: line)
            throw POSIXError(errno)
        }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// The next datagram as text, or nil when none came within the receive timeout.
    public func next() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count >= 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Whether a datagram is waiting, without blocking.
    public func hasPendingDatagram() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK)) >= 0
    }

    public func close() {
        Glibc.close(fd)
        if let directory {
            unlink(address)
            rmdir(directory)
        }
    }
}

extension POSIXError {
    /// The error for a raw errno value, as tests throw it after a failed libc call.
    public init(_ code: Int32) {
        self.init(POSIXErrorCode(rawValue: code) ?? .EIO)
    }
}
