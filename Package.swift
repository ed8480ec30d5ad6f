// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Deputy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DeputyCore", targets: ["DeputyCore"]),
        .library(name: "DeputyProtocol", targets: ["DeputyProtocol"]),
        .library(name: "DeputyClient", targets: ["DeputyClient"]),
        .executable(name: "deputyd", targets: ["deputyd"]),
        .executable(name: "deputy", targets: ["deputy"]),
        .executable(name: "deputy-bench", targets: ["deputy-bench"]),
        .executable(name: "deputy-fuzz", targets: ["deputy-fuzz"]),
        .executable(name: "deputy-checkpassword", targets: ["deputy-checkpassword"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The CPU's prefetch instruction, which Swift does not offer: the core's index
        // lookups of one pipelined read start their memory loads together.
        .target(name: "CDeputyPrefetch"),
        // The directory: entities, rules, commands, queries, indexes, password hashing.
        // No networking and no files.
        .target(
            name: "DeputyCore",
            dependencies: [
                "CDeputyPrefetch",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The line protocol: request lines and the typed requests they decode into (with the
        // core's values: addresses, permissions, roles), replies, parser, encoder, limits.
        // NIOCore is its only outside dependency.
        .target(
            name: "DeputyProtocol",
            dependencies: [
                "DeputyCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Snapshot and journal on disk, recovery, the single writer.
        .target(
            name: "DeputyStore",
            dependencies: [
                "DeputyCore",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // Cluster mode: the shared, ordered log of commands in PostgreSQL (schema, appends with
        // group commit, the applier that follows the log on every node, shared snapshots).
        // The embedded store stays the single-node default; nothing here runs without a
        // configured database.
        .target(
            name: "DeputyCluster",
            dependencies: [
                "DeputyCore",
                "DeputyStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "store-bench",
            dependencies: ["DeputyStore", "DeputyCore", "DeputyBenchData"],
            swiftSettings: strictSettings
        ),
        // The protocol's listeners and sessions, TLS, logins and their throttle, metrics and
        // health, the daemon's settings (the mail adapters' among them), and the generic
        // listener every socket of the daemon is bound with.
        .target(
            name: "DeputyServer",
            dependencies: [
                "DeputyCore",
                "DeputyProtocol",
                "DeputyStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The mail servers' protocols: Postfix socketmap, tcp_table and policy delegation,
        // Dovecot auth and dict, and the ACL file Dovecot reads for shared mailboxes.
        .target(
            name: "DeputyMailAdapters",
            dependencies: [
                "DeputyCore",
                "DeputyServer",
                "DeputyStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The composition root: the whole daemon wired in one place, for deputyd, the
        // in-process test servers and deputy-bench alike.
        .target(
            name: "DeputyDaemon",
            dependencies: [
                "DeputyCluster",
                "DeputyCore",
                "DeputyServer",
                "DeputyMailAdapters",
                "DeputyStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The async client library used by deputy, deputy-bench and the tests.
        .target(
            name: "DeputyClient",
            dependencies: [
                "DeputyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "deputy",
            dependencies: [
                "DeputyClient",
                "DeputyCore",
                "DeputyProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "deputyd",
            dependencies: [
                "DeputyCluster",
                "DeputyCore",
                "DeputyDaemon",
                "DeputyProtocol",
                "DeputyServer",
                "DeputyMailAdapters",
                "DeputyStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // Dovecot's checkpassword interface answered by deputyd's auth listener: the request on
        // descriptor 3, the client side of Dovecot's auth protocol. Glibc only, so that the
        // program Dovecot starts for every login starts fast.
        .target(
            name: "DeputyCheckpassword",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "deputy-checkpassword",
            dependencies: ["DeputyCheckpassword"],
            swiftSettings: strictSettings
        ),
        // The deterministic dataset the benchmarks share.
        .target(
            name: "DeputyBenchData",
            dependencies: ["DeputyCore"],
            swiftSettings: strictSettings
        ),
        // Benchmarks: the core's queries in process, the mail adapters, and a real daemon
        // over TLS.
        .executableTarget(
            name: "deputy-bench",
            dependencies: [
                "DeputyCore",
                "DeputyDaemon",
                "DeputyStore",
                "DeputyBenchData",
                "DeputyServer",
                "DeputyMailAdapters",
                "DeputyClient",
                "DeputyProtocol",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Fuzz targets for every parser of untrusted input, and the executable that runs
        // them (scripts/fuzz builds it with libFuzzer; a plain build replays a corpus).
        .target(
            name: "DeputyFuzzing",
            dependencies: [
                "DeputyProtocol",
                "DeputyServer",
                "DeputyMailAdapters",
                "DeputyStore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "deputy-fuzz",
            dependencies: ["DeputyFuzzing"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeputyCoreTests",
            dependencies: [
                "DeputyCore",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeputyStoreTests",
            dependencies: [
                "DeputyStore",
                "DeputyCore",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeputyProtocolTests",
            dependencies: [
                "DeputyProtocol",
                // The fuzz corpus is replayed here, in a process of its own, away from
                // the end-to-end suites.
                "DeputyFuzzing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeputyClientTests",
            dependencies: [
                "DeputyClient",
                "DeputyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Cluster mode against a real PostgreSQL primary with a synchronous standby, started
        // by the tests themselves (Debian's postgresql-15).
        .testTarget(
            name: "DeputyClusterTests",
            dependencies: [
                "DeputyCluster",
                "DeputyCore",
                "DeputyDaemon",
                "DeputyMailAdapters",
                "DeputyProtocol",
                "DeputyServer",
                "DeputyStore",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeputyServerTests",
            dependencies: [
                "DeputyCore",
                "DeputyDaemon",
                "DeputyProtocol",
                "DeputyServer",
                // deputy mfa enroll's QR code, read back from the CLI's output.
                "DeputyClient",
                "DeputyMailAdapters",
                // The readiness test runs a store on a simulated disk that fails on demand.
                "DeputyStore",
                "DeputyCheckpassword",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
