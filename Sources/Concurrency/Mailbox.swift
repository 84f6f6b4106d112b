import Foundation

/// The queue through which threads post immutable values to the loop that owns
/// the state. `next(timeout:)` sleeps on a condition variable: the owning loop
/// wakes only for a message or its own deadline, never to poll.
public final class Mailbox<Message>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Message] = []

    public init() {}

    public func post(_ message: Message) {
        condition.lock()
        queue.append(message)
        condition.signal()
        condition.unlock()
    }

    /// The oldest message, waiting up to `timeout` seconds; nil on timeout.
    public func next(timeout: Double) -> Message? {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while queue.isEmpty {
            if !condition.wait(until: deadline) { break }
        }
        return queue.isEmpty ? nil : queue.removeFirst()
    }
}
