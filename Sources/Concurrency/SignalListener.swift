import Glibc

/// Turns SIGTERM, SIGINT and SIGHUP into messages.
///
/// `blockSignals()` must run on the main thread before any other thread
/// starts, so that every thread inherits the mask and only this listener's
/// `sigwait` receives them: no async-signal handler (which could do almost
/// nothing safely), no flag polling. `start` owns one `WorkerThread` named
/// "signals" that lives as long as the process; it never ends.
public enum SignalListener {
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    public static func blockSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that calls `deliver` with each signal number, on that
    /// thread, one signal at a time.
    public static func start(_ deliver: @escaping @Sendable (Int32) -> Void) {
        let thread = WorkerThread(name: "signals") {
            var set = signalSet()
            while true {
                var signal: Int32 = 0
                if sigwait(&set, &signal) == 0 { deliver(signal) }
            }
        }
        // The running thread keeps the WorkerThread alive; no need to store it.
        thread.start()
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        return set
    }
}
