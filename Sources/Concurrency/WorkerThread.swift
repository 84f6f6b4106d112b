import Foundation

/// A named dedicated thread running one blocking body, joinable with a deadline.
/// Ends when its body returns; the owner asks the body to return (stop signal,
/// cancelled stream) and then `join`s.
public final class WorkerThread: @unchecked Sendable {
    public let name: String
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    public init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        let done = finished
        let t = Thread {
            body()
            done.signal()
        }
        t.name = name
        thread = t
    }

    public func start() { thread?.start() }

    /// Waits for the body to return; false if it did not within `timeout`.
    @discardableResult
    public func join(timeout: Double) -> Bool {
        finished.wait(timeout: .now() + timeout) == .success
    }
}
