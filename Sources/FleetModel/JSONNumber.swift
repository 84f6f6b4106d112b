import Foundation

/// Reads numbers out of JSONSerialization results. Foundation boxes JSON
/// true/false as NSNumber too; a boolean is never accepted as a number here.
enum JSONNumber {
    static func isBool(_ n: NSNumber) -> Bool {
        // Booleans are boxed with the C type "c" (char); JSON numbers never are.
        String(cString: n.objCType) == "c"
    }

    /// How we write a number: whole values as integers ("interval": 10, not 10.0).
    static func encodable(_ value: Double) -> Any {
        Int64(exactly: value).map { $0 as Any } ?? value as Any
    }

    /// A finite number, or nil for anything else (strings, booleans, NaN).
    static func double(_ any: Any?) -> Double? {
        guard let n = any as? NSNumber, !isBool(n) else { return nil }
        let d = n.doubleValue
        return d.isFinite ? d : nil
    }
}
