import Glibc

/// A libsystemd call that returned a negative errno.
///
/// "Not running under systemd" is never one of these: functions that can meet
/// that situation report it in their result instead.
public struct SystemdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The libsystemd function that failed, e.g. `sd_notify`.
    public let function: String
    /// The positive errno value (libsystemd returns it negated).
    public let errno: Int32

    public init(function: String, errno: Int32) {
        self.function = function
        self.errno = errno
    }

    public var description: String {
        "\(function) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
