/// The metrics the agent can publish, spelled exactly as in configuration files and
/// in etcd.
///
/// Order of declaration is the publishing order (`Comparable`), so output built from
/// a `Set` can be sorted into a stable, readable order.
public enum MetricName: String, CaseIterable, Comparable, Sendable {
    case cpu
    case memory
    case diskRead = "disk read"
    case diskWrite = "disk write"
    case netIn = "net in"
    case netOut = "net out"

    /// Configuration shorthands, each standing for a family of metrics.
    public static let shorthands: [String: [MetricName]] = [
        "disk": [.diskRead, .diskWrite],
        "net": [.netIn, .netOut],
    ]

    /// The metrics a configuration name stands for: the metric itself, or the members
    /// of a shorthand; nil when the name is neither.
    public static func expanding(_ name: String) -> [MetricName]? {
        if let metric = MetricName(rawValue: name) {
            return [metric]
        }
        return shorthands[name]
    }

    public static func < (lhs: MetricName, rhs: MetricName) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int {
        switch self {
        case .cpu: return 0
        case .memory: return 1
        case .diskRead: return 2
        case .diskWrite: return 3
        case .netIn: return 4
        case .netOut: return 5
        }
    }
}
