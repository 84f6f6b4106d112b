import Foundation

/// Turns SIGTERM, SIGINT and SIGHUP into messages. `blockSignals()` must run on
/// the main thread before any other thread starts, so that every thread inherits
/// the mask and only this listener's `sigwait` receives them (no async-signal
/// handler, no flag polling). The listener thread lives as long as the process.
public enum SignalListener {
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    public static func blockSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that calls `deliver` with each signal number.
    public static func start(_ deliver: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var set = signalSet()
            while true {
                var signal: Int32 = 0
                if sigwait(&set, &signal) == 0 { deliver(signal) }
            }
        }
        thread.name = "signals"
        thread.start()
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        return set
    }
}
