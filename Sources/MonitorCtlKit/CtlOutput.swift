import Concurrency
import Foundation
import Glibc
import SafeText

/// Where monitorctl writes: standard output for results, standard error for
/// errors and notes. Commands only see this protocol, so tests capture both.
public protocol CtlOutput: AnyObject {
    /// Writes `text` to standard output as is (callers add the newlines).
    func write(_ text: String)
    /// Writes UTF-8 `bytes` to standard output as is (a large document, uncopied).
    func write(bytes: [UInt8])
    /// Writes `text` to standard error as is.
    func writeError(_ text: String)
}

extension CtlOutput {
    func line(_ text: String) { write(text + "\n") }
    /// One line on stderr; control characters in it (an etcd message, a value
    /// quoted in an error) are escaped, so it stays one line.
    func errorLine(_ text: String) { writeError(SafeText.escaped(text) + "\n") }
}

/// The process's stdout and stderr, unbuffered (one write per call), so that
/// `watch` lines reach a pipe at once. Writes straight from the string's or the
/// array's own storage: a 6 MB `status -o json` is not copied on its way out.
public final class StandardOutput: CtlOutput {
    public init() {}

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { Self.write($0, to: STDOUT_FILENO) }
    }

    public func write(bytes: [UInt8]) { bytes.withUnsafeBufferPointer { Self.write($0, to: STDOUT_FILENO) } }

    public func writeError(_ text: String) {
        var text = text
        text.withUTF8 { Self.write($0, to: STDERR_FILENO) }
    }

    private static func write(_ buffer: UnsafeBufferPointer<UInt8>, to fd: Int32) {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            // A closed pipe (`monitorctl status | head`) ends the output, not the command.
            guard n > 0 else { return }
            offset += n
        }
    }
}

/// Collects everything written, for tests. Safe to read from another thread
/// while a command (e.g. `watch`) is still writing.
public final class CapturedOutput: CtlOutput, Sendable {
    private let text = Locked((out: "", err: ""))

    public init() {}

    public func write(_ line: String) { text.withLock { $0.out += line } }

    public func write(bytes: [UInt8]) { write(String(decoding: bytes, as: UTF8.self)) }

    public func writeError(_ line: String) { text.withLock { $0.err += line } }

    public var stdout: String { text.withLock { $0.out } }

    public var stderr: String { text.withLock { $0.err } }
}
