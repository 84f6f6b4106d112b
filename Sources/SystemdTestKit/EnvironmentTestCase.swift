import Glibc
import XCTest

/// Base of the test classes that set the variables systemd hands a service
/// (NOTIFY_SOCKET, WATCHDOG_*, JOURNAL_STREAM) or MONITOR_LOG. `setUp` saves
/// and unsets them, `tearDown` runs the test's cleanups and restores them: the
/// environment is process-wide, so no test may leave it changed.
open class EnvironmentTestCase: XCTestCase {
    public static let variables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "MONITOR_LOG"]
    private var saved: [String: String?] = [:]
    /// Run in reverse order by `tearDown`, before the variables are restored.
    public var cleanups: [() -> Void] = []

    override open func setUp() {
        super.setUp()
        for name in Self.variables {
            saved[name] = getenv(name).map { String(cString: $0) }
            unsetenv(name)
        }
    }

    override open func tearDown() {
        cleanups.reversed().forEach { $0() }
        cleanups = []
        for (name, value) in saved {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        super.tearDown()
    }
}
