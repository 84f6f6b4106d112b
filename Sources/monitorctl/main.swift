import Foundation
import MonitorCtlKit

// monitorctl: all logic lives in MonitorCtlKit; this only wires the real
// stdout/stderr, environment and signals.
let runner = MonitorctlRunner(output: StandardOutput(), installSignalHandlers: true)
exit(runner.run(Array(CommandLine.arguments.dropFirst())))
