// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way: edges (server, CLI) → services → store, reports, redemption
// → ledger, rules → core. Only AyumiSQLite imports GRDB; only AyumiServer imports Hummingbird.
let package = Package(
    name: "ayumi",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ayumi", targets: ["ayumi"]),
        .executable(name: "ayumi-bare", targets: ["ayumi-bare"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        .target(name: "AyumiCore"),
        .target(name: "AyumiRules", dependencies: [
            "AyumiCore",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "AyumiLedger", dependencies: ["AyumiCore"]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // Not "CZlib": ZIPFoundation has a module of that name.
        .systemLibrary(name: "CAyumiZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "AyumiRedemption", dependencies: [
            "AyumiCore", "CQRencode", "CAyumiZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The storage seam: the protocol and its value types, without any database library.
        .target(name: "AyumiStore", dependencies: ["AyumiCore", "AyumiLedger"]),
        // The embedded default behind it and the reports' reader; the only target that imports GRDB.
        .target(name: "AyumiSQLite", dependencies: [
            "AyumiCore", "AyumiLedger", "AyumiStore", "AyumiReports",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Reports and the facts they read (`ReportSource`): each store implements the reader.
        .target(name: "AyumiReports", dependencies: [
            "AyumiCore",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),   // the XLSX package
        ]),
        .target(name: "AyumiServices", dependencies: [
            "AyumiCore", "AyumiRules", "AyumiLedger", "AyumiStore", "AyumiRedemption", "AyumiReports",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),   // PBKDF2 for card PINs
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Wires the use cases to the live store and program files; only the CLI and tests use it.
        .target(name: "AyumiBootstrap", dependencies: [
            "AyumiServices", "AyumiCore", "AyumiRules", "AyumiStore", "AyumiSQLite",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "AyumiServer", dependencies: [
            "AyumiServices", "AyumiCore", "AyumiStore", "AyumiRedemption", "AyumiReports",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "ayumi", dependencies: [
            "AyumiServer", "AyumiServices", "AyumiBootstrap", "AyumiCore", "AyumiLedger", "AyumiRedemption", "AyumiReports", "AyumiRules", "AyumiStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // A bare Hummingbird endpoint: the framework's ceiling beside Ayumi's HTTP figures (scripts/bench).
        .executableTarget(name: "ayumi-bare", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        // Shared by the test targets only: a fixture over a temporary database and a test clock.
        .target(name: "AyumiTestSupport", dependencies: [
            "AyumiCore", "AyumiServices", "AyumiBootstrap", "AyumiStore", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AyumiCoreTests", dependencies: ["AyumiCore"]),
        .testTarget(name: "AyumiRulesTests", dependencies: ["AyumiRules"]),
        .testTarget(name: "AyumiLedgerTests", dependencies: ["AyumiLedger"]),
        // How reports count, over a reader held in memory: no store involved.
        .testTarget(name: "AyumiReportsTests", dependencies: ["AyumiReports", "AyumiCore"]),
        // The store's contract, through the use cases: every Store implementation must pass it.
        .testTarget(name: "AyumiStoreTests", dependencies: [
            "AyumiStore", "AyumiLedger", "AyumiServices", "AyumiReports", "AyumiRules", "AyumiRedemption", "AyumiTestSupport",
        ], exclude: ["Fixtures"]), // golden reports, read from the repository by path
        // What only the SQLite store has: its schema, migrations and audit queries.
        .testTarget(name: "AyumiSQLiteTests", dependencies: [
            "AyumiSQLite", "AyumiStore", "AyumiLedger", "AyumiServices", "AyumiTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Fixtures"]), // read from the repository by path, copied before each use
        .testTarget(name: "AyumiRedemptionTests", dependencies: ["AyumiRedemption", "AyumiTestSupport"]),
        .testTarget(name: "ayumiTests", dependencies: ["AyumiTestSupport", "AyumiServices"]),
        .testTarget(name: "AyumiServerTests", dependencies: [
            "AyumiServer", "AyumiServices", "AyumiTestSupport", "AyumiCore",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
