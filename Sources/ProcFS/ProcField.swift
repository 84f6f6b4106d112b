#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One whitespace-separated field of a `ProcLine`, as bytes. Only valid inside
/// `ProcText.withLines`.
struct ProcField {
    private let start: UnsafePointer<UInt8>
    private let count: Int

    init(start: UnsafePointer<UInt8>, count: Int) {
        self.start = start
        self.count = count
    }

    var string: String {
        String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    /// A decimal counter as the kernel prints it: digits only, no sign, fitting in
    /// 64 bits. Nil otherwise, so that the caller can report the line.
    var uint64: UInt64? {
        guard count > 0 else {
            return nil
        }
        var value: UInt64 = 0
        for index in 0..<count {
            let digit = start[index] &- UInt8(ascii: "0")
            guard digit < 10 else {
                return nil
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else {
                return nil
            }
            value = sum
        }
        return value
    }

    /// Byte equality with an ASCII literal, without building a String.
    func equals(_ literal: StaticString) -> Bool {
        literal.utf8CodeUnitCount == count && memcmp(literal.utf8Start, start, count) == 0
    }
}
