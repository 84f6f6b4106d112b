/// Numbers as the package prints them, without Foundation's `String(format:)`
/// (which pulls in ICU): the one formatter for intervals, percentages and figures.
public enum FixedPoint {
    /// `value` with exactly `places` decimals, rounded half away from zero:
    /// text(2.25, places: 1) == "2.3", text(3, places: 1) == "3.0".
    public static func text(_ value: Double, places: Int) -> String {
        guard value.isFinite, places >= 0, places <= 9 else { return "\(value)" }
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * Double(scale)).rounded()
        guard scaled < 9e18 else { return "\(value)" }
        let units = Int64(scaled)
        var text = (value < 0 && units != 0 ? "-" : "") + String(units / scale)
        if places > 0 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return text
    }

    /// Whole values without a fraction ("90"), others in Swift's shortest form ("92.5").
    public static func shortest(_ value: Double) -> String {
        Int64(exactly: value).map { String($0) } ?? "\(value)"
    }
}

/// Durations in seconds as logs, STATUS= and monitorctl show them.
public enum Interval {
    /// "10s", "1.5s".
    public static func text(_ seconds: Double) -> String { FixedPoint.shortest(seconds) + "s" }

    /// With a fixed number of decimals: "2.5s", "0.0s".
    public static func text(_ seconds: Double, decimals: Int) -> String {
        FixedPoint.text(seconds, places: decimals) + "s"
    }
}
