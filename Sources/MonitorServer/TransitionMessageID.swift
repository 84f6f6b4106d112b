import FleetModel
/// Journal MESSAGE_IDs of node transitions, so `journalctl MESSAGE_ID=...` finds
/// every DEAD across restarts and hosts. Fixed forever once published.
public enum TransitionMessageID {
    public static func id(for event: FleetState.Event) -> String? {
        switch event {
        case .alive: return "6f0f3c5a2b8e4d1c9a7e5b3d1f2a4c60"
        case .left: return "6f0f3c5a2b8e4d1c9a7e5b3d1f2a4c61"
        case .dead: return "6f0f3c5a2b8e4d1c9a7e5b3d1f2a4c62"
        case .stale: return "6f0f3c5a2b8e4d1c9a7e5b3d1f2a4c63"
        case .cpuHigh, .memoryHigh: return "6f0f3c5a2b8e4d1c9a7e5b3d1f2a4c64"
        case .cpuOK, .memoryOK: return "6f0f3c5a2b8e4d1c9a7e5b3d1f2a4c65"
        case .clockSkew, .clockOK: return nil
        }
    }
}
