import Concurrency
import Glibc

/// Runs `action` on its own thread after `seconds`, so a test thread can block
/// in a wait that the action is meant to end. Returns the thread for joining.
@discardableResult
func after(_ seconds: Double, name: String = "test-after", _ action: @escaping @Sendable () -> Void) -> WorkerThread {
    let thread = WorkerThread(name: name) {
        sleep(seconds: seconds)
        action()
    }
    thread.start()
    return thread
}

/// A plain nanosleep, deliberately not one of the primitives under test.
func sleep(seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Seconds `body` took, on the monotonic clock.
func timed<T>(_ body: () -> T) -> (result: T, seconds: Double) {
    let start = MonotonicInstant.now()
    let result = body()
    return (result, MonotonicInstant.now().secondsSince(start))
}

/// CPU time consumed so far by the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
