// swift-tools-version:6.0
import PackageDescription

// Modules by responsibility. The dependency rule, from the bottom up (an arrow
// only ever points down; a module imports nothing of its own layer):
//
//   0. CCurl, CSystemd, CMicroHTTPD: C shims, no logic. Concurrency: locks, mailboxes, threads,
//      signals, the monotonic clock; imports only the standard library and Glibc.
//      JSONStream: a forward-only JSON reader and writer and base64, for documents
//      at fleet scale (no tree, no Coder); imports only the standard library and Glibc.
//      SafeText: the rule for showing outside text to people (control characters
//      escaped, long values cut); the standard library only.
//   1. Leaves, each knowing nothing of the others: EtcdClient (the etcd JSON
//      gateway), SystemdNotify (sd_notify, watchdog), MonitorLogging (journald and
//      stderr log handlers), MonitorSettings (monitor.conf), FleetModel (the etcd
//      contract: key layout, value formats, metric names, fleet rules), ProcFS
//      (/proc parsing), HTTPServer (a read-only HTTP listener on libmicrohttpd's
//      threads). They may import layer 0 and swift-log.
//   2. DaemonKit: the supervisor both daemons run (signals, sd_notify, watchdog,
//      reload); combines layer 1's SystemdNotify, MonitorLogging, MonitorSettings.
//   3. MonitorAgent, MonitorServer (the only modules that combine etcd, systemd
//      and /proc), MonitorCtlKit (monitorctl's commands; never SystemdNotify,
//      MonitorLogging or DaemonKit, so monitorctl does not link libsystemd).
//   4. Executables: argument parsing and `run`, nothing else.
//   Test kits (*TestKit, EtcdTestSupport) are linked by tests only.
let package = Package(
    name: "monitor",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "monitor-agentd", targets: ["monitor-agentd"]),
        .executable(name: "monitor-serverd", targets: ["monitor-serverd"]),
        .executable(name: "monitorctl", targets: ["monitorctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Layer 0
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CSystemd", linkerSettings: [.linkedLibrary("systemd")]),
        .target(name: "CMicroHTTPD", linkerSettings: [.linkedLibrary("microhttpd"), .linkedLibrary("z")]),
        .target(name: "Concurrency"),
        .target(name: "JSONStream"),
        .target(name: "SafeText"),
        // Layer 1
        .target(name: "EtcdClient", dependencies: ["CCurl", "Concurrency", "JSONStream"]),
        .target(name: "SystemdNotify", dependencies: ["CSystemd", "Concurrency"]),
        .target(name: "MonitorLogging", dependencies: [
            "CSystemd", "Concurrency", "SafeText", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "MonitorSettings", dependencies: ["SafeText"]),
        .target(name: "FleetModel", dependencies: ["JSONStream", "SafeText"]),
        .target(name: "ProcFS"),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD"]),
        // Layer 2
        .target(name: "DaemonKit", dependencies: [
            "Concurrency", "SystemdNotify", "MonitorLogging", "MonitorSettings", "SafeText",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Layer 3
        .target(name: "MonitorAgent", dependencies: [
            "DaemonKit", "Concurrency", "EtcdClient", "FleetModel", "MonitorSettings", "ProcFS", "SafeText", "SystemdNotify",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "MonitorServer", dependencies: [
            "DaemonKit", "Concurrency", "EtcdClient", "FleetModel", "HTTPServer", "JSONStream", "MonitorSettings",
            "SafeText", "SystemdNotify", .product(name: "Logging", package: "swift-log"),
        ]),
        // monitorctl's commands, in a library so tests run them in-process.
        .target(name: "MonitorCtlKit", dependencies: [
            "Concurrency", "EtcdClient", "FleetModel", "JSONStream", "MonitorSettings", "SafeText",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Layer 4
        .executableTarget(name: "monitor-agentd", dependencies: [
            "MonitorAgent", "DaemonKit", "FleetModel", "MonitorSettings", "MonitorLogging", "Concurrency",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "monitor-serverd", dependencies: [
            "MonitorServer", "DaemonKit", "FleetModel", "MonitorSettings", "MonitorLogging", "Concurrency",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "monitorctl", dependencies: ["MonitorCtlKit"]),
        // make bench: the fleet-scale load test (not installed).
        .target(name: "FleetBench", dependencies: ["Concurrency", "EtcdClient", "EtcdTestSupport", "FleetModel"]),
        .executableTarget(name: "monitor-bench", dependencies: [
            "FleetBench", "Concurrency", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test kits: linked by tests only, never by a daemon.
        .target(name: "EtcdTestSupport", dependencies: ["EtcdClient", "Concurrency"]),
        .target(name: "LoggingTestKit", dependencies: [
            "Concurrency", "MonitorLogging", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "SystemdTestKit", dependencies: ["Concurrency"]),
        .target(name: "ProcFSTestKit", resources: [.copy("Fixtures")]),

        // One test target per module, plus the integration tests of the binaries.
        .testTarget(name: "ConcurrencyTests", dependencies: ["Concurrency"]),
        .testTarget(name: "JSONStreamTests", dependencies: ["JSONStream"]),
        .testTarget(name: "SafeTextTests", dependencies: ["SafeText"]),
        .testTarget(name: "EtcdClientTests", dependencies: ["EtcdClient", "EtcdTestSupport", "Concurrency"]),
        .testTarget(name: "SystemdNotifyTests", dependencies: ["SystemdNotify", "SystemdTestKit", "Concurrency"]),
        .testTarget(name: "MonitorLoggingTests", dependencies: [
            "MonitorLogging", "LoggingTestKit", "SystemdTestKit", "Concurrency", "SafeText",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "MonitorSettingsTests", dependencies: ["MonitorSettings"]),
        .testTarget(name: "FleetModelTests", dependencies: ["FleetModel", "MonitorSettings"]),
        .testTarget(name: "ProcFSTests", dependencies: ["ProcFS", "ProcFSTestKit"]),
        .testTarget(name: "DaemonKitTests", dependencies: [
            "DaemonKit", "Concurrency", "SystemdTestKit", "LoggingTestKit", "MonitorSettings",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "MonitorAgentTests", dependencies: [
            "MonitorAgent", "FleetModel", "ProcFS", "ProcFSTestKit", "MonitorSettings", "LoggingTestKit", "Concurrency",
            "EtcdClient",
        ]),
        .testTarget(name: "MonitorServerTests", dependencies: ["MonitorServer", "FleetModel", "Concurrency", "HTTPServer"]),
        .testTarget(name: "MonitorCtlKitTests", dependencies: [
            "MonitorCtlKit", "FleetModel", "MonitorSettings", "EtcdClient", "EtcdTestSupport", "Concurrency", "SafeText",
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "EtcdClient", "EtcdTestSupport", "SystemdTestKit", "FleetModel", "MonitorSettings", "Concurrency",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
