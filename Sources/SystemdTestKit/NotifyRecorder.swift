import Concurrency
import Foundation

/// Records every sd_notify message a child process sends: owns a
/// `NotifySocket` (give the child `NOTIFY_SOCKET=address`) and a thread that
/// collects each datagram with its arrival time until `close()` (also on deinit).
public final class NotifyRecorder: Sendable {
    private let socket: NotifySocket
    private let messages = Locked<[(time: Date, text: String)]>([])
    private let closed = Locked(false)

    /// What to put in `NOTIFY_SOCKET`.
    public var address: String { socket.address }

    public init() throws {
        // Short reads, so the collecting thread notices `close()` soon.
        let socket = try NotifySocket(receiveTimeout: 0.2)
        self.socket = socket
        let messages = self.messages, closed = self.closed
        Thread.detachNewThread {
            while !closed.withLock({ $0 }) {
                if let text = socket.next() { messages.withLock { $0.append((Date(), text)) } }
            }
            socket.close()
        }
    }

    deinit { close() }

    public func close() { closed.withLock { $0 = true } }

    /// The first message since `after` that satisfies `predicate`, waiting up to `timeout` seconds.
    @discardableResult
    public func waitFor(_ predicate: (String) -> Bool, after: Date = .distantPast, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let seen = messages.withLock { $0 }
            if let match = seen.first(where: { $0.time >= after && predicate($0.text) }) { return match.text }
            guard Date() < deadline else {
                throw NotifyTimeout(message: "no matching notify message in \(timeout)s; got: \(seen.map(\.text))")
            }
            usleep(10_000)
        }
    }

    /// Every message since `after`, in arrival order.
    public func all(after: Date = .distantPast) -> [String] {
        messages.withLock { $0 }.filter { $0.time >= after }.map(\.text)
    }
}

public struct NotifyTimeout: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
