import Foundation

/// Reads numbers out of JSONSerialization results. Foundation boxes JSON
/// true/false as NSNumber too; a boolean is never accepted as a number here.
enum JSONNumber {
    static func isBool(_ n: NSNumber) -> Bool {
        // Booleans are boxed with the C type "c" (char); JSON numbers never are.
        String(cString: n.objCType) == "c"
    }

    /// A finite number, or nil for anything else (strings, booleans, NaN).
    static func double(_ any: Any?) -> Double? {
        guard let n = any as? NSNumber, !isBool(n) else { return nil }
        let d = n.doubleValue
        return d.isFinite ? d : nil
    }
}
