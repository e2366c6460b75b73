// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "bourse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bourse", targets: ["Node"]),
        .executable(name: "bourse-bench", targets: ["BourseBench"]),
        .library(name: "Trading", targets: ["Trading"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // Pure domain: fixed-point numbers, order book, matching, ledger. No I/O, no concurrency.
        .target(name: "Trading", swiftSettings: strict),
        // Actors that own the pure state machines (filled by the single-node issue).
        .target(name: "Actors", dependencies: ["Trading"], swiftSettings: strict),
        // Journal and snapshot stores (filled by the single-node issue).
        .target(name: "Storage", dependencies: ["Trading"], swiftSettings: strict),
        // Membership, ring, leases, transport (filled by the cluster issue).
        .target(name: "Cluster", dependencies: ["Trading"], swiftSettings: strict),
        // Client and admin HTTP API (filled by the single-node issue).
        .target(name: "API", dependencies: ["Trading", "Actors", "Storage", "Cluster"], swiftSettings: strict),
        .executableTarget(
            name: "Node",
            dependencies: [
                "Trading", "Actors", "Storage", "Cluster", "API",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks of the pure core: depends on Trading only so a release build stays quick.
        .executableTarget(name: "BourseBench", dependencies: ["Trading"], swiftSettings: strict),
        // Shared test helpers: seeded random numbers, the reference order book.
        .target(name: "TestSupport", dependencies: ["Trading"], swiftSettings: strict),
        .testTarget(name: "TradingTests", dependencies: ["Trading", "TestSupport"], swiftSettings: strict),
    ]
)
