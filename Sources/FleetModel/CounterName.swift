/// The cumulative counters an agent publishes in its heartbeat's `counters`
/// object, next to the rates in `metrics`: totals since the node booted, so
/// Prometheus computes rates itself (`rate()`), over any window, across missed
/// scrapes. Summed over the devices the rates count (whole disks, interfaces but
/// loopback): a device that disappears makes a total drop, which Prometheus
/// treats as a counter reset.
public enum CounterName: String, CaseIterable, Sendable {
    /// CPU seconds spent busy (all but idle and iowait), all CPUs together.
    case cpuBusySeconds = "cpu_busy_seconds_total"
    /// CPU seconds in every mode, all CPUs together.
    case cpuSeconds = "cpu_seconds_total"
    case diskReadBytes = "disk_read_bytes_total"
    case diskWrittenBytes = "disk_written_bytes_total"
    case netReceivedBytes = "net_received_bytes_total"
    case netTransmittedBytes = "net_transmitted_bytes_total"
}
