// swift-tools-version:6.0
import PackageDescription

// Modules by responsibility: the etcd client knows nothing of monitoring, the
// systemd support knows nothing of etcd, /proc parsing knows neither. The C
// targets are thin shims with no logic.
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
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CSystemd", linkerSettings: [.linkedLibrary("systemd")]),
        .target(name: "EtcdClient", dependencies: ["CCurl"]),
        .target(name: "SystemdSupport", dependencies: [
            "CSystemd", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "MonitorMetrics"),
        // Locks, mailboxes, stop signals and threads on Glibc and Synchronization
        // only (no Foundation, no Dispatch), checked in Swift 6 mode.
        .target(name: "Concurrency", swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "MonitorCore", dependencies: [
            "EtcdClient", "MonitorMetrics", "SystemdSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "MonitorAgent", dependencies: [
            "MonitorCore", "EtcdClient", "SystemdSupport", "MonitorMetrics",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "MonitorServer", dependencies: [
            "MonitorCore", "EtcdClient", "SystemdSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "monitor-agentd", dependencies: [
            "MonitorAgent", "MonitorCore", "SystemdSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "monitor-serverd", dependencies: [
            "MonitorServer", "MonitorCore", "SystemdSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // monitorctl's commands, in a library so tests run them in-process.
        .target(name: "MonitorCtlKit", dependencies: [
            "MonitorCore", "EtcdClient", "MonitorMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "monitorctl", dependencies: [
            "MonitorCtlKit", "MonitorCore", "EtcdClient", "SystemdSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Starts and stops real etcd members for tests; never linked into a daemon.
        .target(name: "EtcdTestSupport", dependencies: ["EtcdClient"]),
        .testTarget(name: "ConcurrencyTests", dependencies: ["Concurrency"],
                    swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(name: "MonitorCoreTests", dependencies: ["MonitorCore"]),
        .testTarget(name: "MonitorServerTests", dependencies: ["MonitorServer", "MonitorCore", "EtcdClient"]),
        .testTarget(name: "MonitorAgentTests", dependencies: ["MonitorAgent", "MonitorCore"]),
        .testTarget(name: "MonitorMetricsTests", dependencies: ["MonitorMetrics"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SystemdSupportTests", dependencies: [
            "SystemdSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "EtcdClientTests", dependencies: ["EtcdClient", "EtcdTestSupport"]),
        .testTarget(name: "MonitorctlTests", dependencies: [
            "MonitorCtlKit", "MonitorCore", "EtcdClient", "EtcdTestSupport",
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "EtcdClient", "EtcdTestSupport", "MonitorCore", "SystemdSupport",
        ]),
    ],
    swiftLanguageModes: [.v5]
)
