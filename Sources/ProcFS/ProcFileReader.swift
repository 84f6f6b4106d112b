#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole /proc files into one buffer it owns and reuses, so a collection round
/// costs one open, a read or two and one close per file, and no Foundation.
///
/// /proc files report a size of 0, so the buffer cannot be sized up front: it starts
/// at 16 KiB (enough for every file we read on common machines) and doubles when a
/// file fills it, keeping the larger size for later rounds.
public struct ProcFileReader {
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    public init() {}

    /// The whole file as text. Throws `ProcReadError`.
    public mutating func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ProcReadError(path: path, errno: errno)
        }
        defer { close(fd) }

        var used = 0
        while true {
            if used == buffer.count {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
            let count = buffer.withUnsafeMutableBytes { bytes in
                systemRead(fd, bytes.baseAddress! + used, bytes.count - used)
            }
            if count > 0 {
                used += count
            } else if count == 0 {
                break
            } else if errno != EINTR {
                throw ProcReadError(path: path, errno: errno)
            }
        }
        return String(decoding: buffer[..<used], as: UTF8.self)
    }
}

// `read` inside a method named `read` would resolve to the method.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}
