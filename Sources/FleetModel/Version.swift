/// The version every executable reports with `--version` and agents publish.
public enum MonitorVersion {
    public static let string = "0.1.0"
}
