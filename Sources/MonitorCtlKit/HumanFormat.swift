import FleetModel
import Foundation

/// Short human renderings for tables: ages, byte rates, percentages, times.
enum HumanFormat {
    static let none = "-"

    /// "12s", "3m", "5h", "4d" (whole units, rounded down, like kubectl's AGE).
    static func duration(_ seconds: Double) -> String {
        // Garbage timestamps from etcd can make ages absurd; never trap on them.
        let s = Int64(exactly: min(max(0, seconds), 1e15).rounded(.down)) ?? 0
        switch s {
        case ..<120: return "\(s)s"
        case ..<(120 * 60): return "\(s / 60)m"
        case ..<(48 * 3600): return "\(s / 3600)h"
        default: return "\(s / 86400)d"
        }
    }

    /// "12s ago"; "in 3s" for a time ahead of `now` by more than a second (clock
    /// skew between the agent and this machine); "-" when unknown.
    static func ago(_ time: Double?, now: Double) -> String {
        guard let time else { return none }
        let age = now - time
        if age < -1 { return "in " + duration(-age) }
        return duration(age) + " ago"
    }

    /// "512 B", "1.2 KiB", "15.6 GiB": binary units, one decimal below 100.
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = max(0, value)
        var unit = 0
        while v >= 1024 && unit < units.count - 1 {
            v /= 1024
            unit += 1
        }
        if unit == 0 { return "\(Int64(v.rounded())) B" }
        // 1023.96 KiB would print as "1024.0 KiB": step up instead.
        if v.rounded() >= 1024 && unit < units.count - 1 { return "1.0 \(units[unit + 1])" }
        return (v < 99.95 ? FixedPoint.text(v, places: 1) : "\(Int64(v.rounded()))") + " " + units[unit]
    }

    /// "1.2 MiB/s", "512 B/s"; "-" when not reported.
    static func rate(_ bytesPerSecond: Double?) -> String {
        bytesPerSecond.map { bytes($0) + "/s" } ?? none
    }

    /// "12.5%"; "-" when not reported.
    static func percent(_ value: Double?) -> String {
        value.map { FixedPoint.text($0, places: 1) + "%" } ?? none
    }

    /// "10s", "2.5s"; "-" when not reported.
    static func interval(_ seconds: Double?) -> String {
        seconds.map(Interval.text) ?? none
    }

    /// "2026-11-21T10:00:00Z".
    static func timestamp(_ unixSeconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: unixSeconds.rounded(.down)))
    }
}

/// Left-aligned columns separated by three spaces, header first (like `kubectl get`).
struct TextTable {
    let header: [String]
    private(set) var rows: [[String]] = []

    init(header: [String]) { self.header = header }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// - Parameter headers: false for `--no-headers` (the columns keep the
    ///   header's width, so a script sees the same layout either way).
    func render(headers: Bool = true) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        var text = ""
        for row in (headers ? [header] : []) + rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 3) }
            }
            text += line + "\n"
        }
        return text
    }
}
