import Glibc

/// A named dedicated thread running one blocking body, joinable with a deadline.
///
/// Owns one detached pthread (named for `top -H`, `ps -L` and the journal's
/// thread lists) and the body it runs. Ends when the body returns: the thread
/// then runs `onExit`, marks itself finished and exits; being detached, it
/// leaves nothing to reap. The owner asks the body to return (stop signal,
/// cancelled stream), then `join`s, or learns of the end through `onExit`
/// (e.g. a supervisor posting "worker ended" to its own mailbox).
///
/// While the thread runs it holds a reference to this object, so dropping the
/// last outside reference neither cancels the body nor frees state the thread
/// still uses.
public final class WorkerThread: Sendable {
    public let name: String
    private let body: @Sendable () -> Void
    private let onExit: (@Sendable () -> Void)?
    private let phase = MonotonicCondition(Phase.created)

    private enum Phase: Sendable { case created, running, finished }

    /// Linux keeps at most 15 bytes of a thread name (16 with the terminating
    /// NUL); `pthread_setname_np` refuses longer ones outright.
    static let maximumNameBytes = 15

    /// `onExit` runs on the worker thread right after `body` returns, before
    /// `join` reports the end.
    public init(name: String, onExit: (@Sendable () -> Void)? = nil, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
        self.onExit = onExit
    }

    /// Starts the thread; false if it was already started or the system could
    /// not create a thread (then it may be started again later). A thread that
    /// never started never finishes: `join` times out.
    @discardableResult
    public func start() -> Bool {
        let claimed = phase.withLock { phase -> Bool in
            guard phase == .created else { return false }
            phase = .running
            return true
        }
        guard claimed else { return false }

        // The thread's own reference to self, released when `run` returns.
        let context = Unmanaged.passRetained(self).toOpaque()
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        attributes.initialize(to: pthread_attr_t())
        defer {
            pthread_attr_destroy(attributes)
            attributes.deinitialize(count: 1)
            attributes.deallocate()
        }
        pthread_attr_init(attributes)
        // Detached: the end is observed through `phase`, not pthread_join (which
        // has no timeout), and a detached thread's resources are freed when it
        // exits, so nobody has to remember to reap it.
        pthread_attr_setdetachstate(attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let created = pthread_create(&thread, attributes, { raw in
            guard let raw else { return nil }
            Unmanaged<WorkerThread>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        if created != 0 {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            phase.withLock { $0 = .created }
            return false
        }
        return true
    }

    /// Waits up to `timeout` seconds (monotonic clock) for the body and `onExit`
    /// to return; true if they did, false on timeout. Waits on a condition
    /// variable, not with `pthread_join`, so any number of threads may join, any
    /// number of times.
    @discardableResult
    public func join(timeout: Double) -> Bool {
        let deadline = MonotonicInstant.now() + max(0, timeout)
        return phase.wait(until: deadline) { $0 == .finished ? true : nil } ?? false
    }

    /// The thread's whole life.
    private func run() {
        // Named from inside: a detached thread's pthread_t may already be
        // reused by the time the creator could name it.
        Self.nameCurrentThread(name)
        body()
        onExit?()
        phase.withLock { $0 = .finished }
        phase.broadcast()
    }

    /// Sets the calling thread's name with `pthread_setname_np`; best effort (a
    /// thread without a name still works).
    private static func nameCurrentThread(_ name: String) {
        // pthread_setname_np is in glibc but declared only under _GNU_SOURCE,
        // which the Glibc module does not define, so Swift cannot see it. Look
        // the symbol up instead of adding a C shim target to this leaf module.
        guard let program = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(program) }
        guard let symbol = dlsym(program, "pthread_setname_np") else { return }
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
        let setName = unsafeBitCast(symbol, to: SetName.self)
        _ = threadName(name).withCString { setName(pthread_self(), $0) }
    }

    /// `name` cut to the longest prefix of whole Unicode scalars that fits in
    /// `maximumNameBytes` UTF-8 bytes (never half a character).
    static func threadName(_ name: String) -> String {
        var result = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > maximumNameBytes { break }
            bytes += width
            result.append(scalar)
        }
        return String(result)
    }
}
