import FleetModel

/// Journal MESSAGE_IDs of node transitions: the one table of every MESSAGE_ID
/// the package sends.
///
/// `journalctl MESSAGE_ID=...` finds every DEAD across restarts and hosts, and
/// `journalctl -x` shows the explanation that `systemd/monitor.catalog` holds for
/// each id. Each id is a random 128-bit value made once with `systemd-id128 new`
/// (never derived or sequential: ids share one global namespace with every other
/// program's catalog) and fixed forever once published; a new event gets a new
/// id here and a new entry in the catalog (a test checks both ways).
public enum TransitionMessageID {
    public static func id(for event: FleetState.Event) -> String {
        switch event {
        case .alive: return "09de827e47094f2c85a959d1075f926c"
        case .left: return "e12ad235e1734989abe7570a0eba15f6"
        case .dead: return "1684dc4ad7bc4980ac2cb2073b2df3f4"
        case .stale: return "78fec774e0a44bcdb10a8fbac47ac071"
        case .cpuHigh: return "65cd816d90c349599c205e3fd0b4f2f3"
        case .cpuOK: return "46a9e69de39d4e29979df68cebd676f9"
        case .memoryHigh: return "788736a776124031a5ae329d70e940aa"
        case .memoryOK: return "e1f407b22bf34d95ab251e2868a9ca1b"
        case .clockSkew: return "99bc1445d6e2489ab0badbe4e298b38e"
        case .clockOK: return "eb05bc9ebf60435f987150afb36c9c19"
        case .nameConflict: return "38d2ba2198c84a5f81ec31e55066c4c5"
        }
    }

    /// Every event with its id, in declaration order.
    public static var all: [(event: FleetState.Event, id: String)] {
        FleetState.Event.allCases.map { ($0, id(for: $0)) }
    }
}
