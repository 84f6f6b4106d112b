import SafeText

/// The concrete metrics a configuration's name list asks for, with shorthands
/// expanded, and the names that matched nothing.
///
/// The caller warns once about `unknown` and carries on with `metrics`: an unknown
/// name is a typo to report, not a reason to stop monitoring.
public struct MetricSelection: Equatable, Sendable {
    /// Every metric named directly or through a shorthand ("disk", "net").
    public let metrics: Set<MetricName>
    /// Names that are neither a metric nor a shorthand, in first-seen order, once each.
    public let unknown: [String]

    /// Leading and trailing whitespace around a name is ignored (it is invisible in a
    /// config file); otherwise names must match exactly, case included.
    public init(names: [String]) {
        var metrics = Set<MetricName>()
        var unknown: [String] = []
        // Linear in the list: a set remembers which unknown names were seen.
        var seen = Set<String>()
        for raw in names {
            let name = raw.trimmingWhitespace()
            if let expanded = MetricName.expanding(name) {
                metrics.formUnion(expanded)
            } else if seen.insert(name).inserted {
                unknown.append(name)
            }
        }
        self.metrics = metrics
        self.unknown = unknown
    }

    /// "\"a\", \"b\" and 12 more": at most `limit` unknown names, each cut to 40
    /// characters, for a log line that stays short whatever the config holds.
    public func unknownList(limit: Int = 5) -> String {
        let shown = unknown.prefix(limit).map { "\"" + SafeText.cut($0, limit: 40) + "\"" }
        let rest = unknown.count - shown.count
        return shown.joined(separator: ", ") + (rest > 0 ? " and \(rest) more" : "")
    }

    /// The selected metrics in publishing order.
    public var sorted: [MetricName] {
        metrics.sorted()
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
