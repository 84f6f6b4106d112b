#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of a /proc file, numbered from 1 and produced lazily, so a parser that
/// needs only the first line (the "cpu " line of /proc/stat, followed by a very long
/// "intr" line) never scans the rest. Obtained from `ProcText.withLines`.
struct ProcLines {
    private let start: UnsafePointer<UInt8>?
    private let count: Int
    private var position = 0
    private var number = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        start = bytes.baseAddress
        count = bytes.count
    }

    mutating func next() -> ProcLine? {
        guard let start, position < count else {
            return nil
        }
        let lineStart = position
        let lineEnd: Int
        if let newline = memchr(start + lineStart, Int32(UInt8(ascii: "\n")), count - lineStart) {
            lineEnd = start.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            position = lineEnd + 1
        } else {
            lineEnd = count
            position = count
        }
        number += 1
        return ProcLine(number: number, start: start + lineStart, count: lineEnd - lineStart)
    }
}
