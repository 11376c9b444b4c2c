// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tokenjar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tokenjar", targets: ["tokenjar"]),
        .library(name: "CookieEngine", targets: ["CookieEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // HTTP/2 at the edge, and gzip (NIOHTTPCompression, zlib): both were already built for
        // async-http-client, so they add no package to the build.
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // The cookie engine: RFC 6265bis parsing, matching and storage model. Pure Swift, no I/O
        // beyond reading a public-suffix list file when asked to.
        .target(
            name: "CookieEngine",
            resources: [.copy("Resources/public_suffix_list.dat")]
        ),
        // The system SQLite library (Debian: libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Session stores: the SessionStore protocol, the in-memory store and the SQLite store.
        .target(
            name: "TokenJarStore",
            dependencies: [
                "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The shared PostgreSQL store, for several gateway instances on one database.
        .target(
            name: "TokenJarPostgres",
            dependencies: [
                "TokenJarStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Configuration: YAML file, environment overrides, validation with key paths.
        .target(
            name: "TokenJarConfig",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The gateway: the SwiftNIO data plane, routing, tokens, jars, lifecycle.
        .target(
            name: "TokenJarGateway",
            dependencies: [
                "CookieEngine",
                "TokenJarStore",
                "TokenJarPostgres",
                "TokenJarConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The admin listener: probes, Prometheus metrics and the sessions API, on its own port; and the
        // client the `tokenjar sessions` command uses.
        .target(
            name: "TokenJarAdmin",
            dependencies: [
                "TokenJarGateway",
                "TokenJarConfig",
                "TokenJarStore",
                "CookieEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // WeChat mini-program login at the gateway: code2Session, identity, decryption, phone numbers.
        .target(
            name: "TokenJarWeChat",
            dependencies: [
                "TokenJarGateway",
                "TokenJarStore",
                "TokenJarConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "tokenjar",
            dependencies: [
                "CookieEngine",
                "TokenJarConfig",
                "TokenJarGateway",
                "TokenJarWeChat",
                "TokenJarStore",
                "TokenJarAdmin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Release-mode microbenchmarks of the cookie engine (not tests): `swift run -c release cookie-bench`.
        .executableTarget(
            name: "cookie-bench",
            dependencies: ["CookieEngine"],
            path: "Benchmarks/cookie-bench"
        ),
        // libFuzzer targets (docs/security.md). Each is built alone with the fuzzer flag by
        // scripts/fuzz; in a plain build each is an executable that does nothing.
        .executableTarget(name: "fuzz-set-cookie", dependencies: ["CookieEngine"], path: "Fuzz/set-cookie"),
        .executableTarget(name: "fuzz-cookie-date", dependencies: ["CookieEngine"], path: "Fuzz/cookie-date"),
        .executableTarget(name: "fuzz-tokens", dependencies: ["TokenJarGateway"], path: "Fuzz/tokens"),
        .executableTarget(
            name: "fuzz-upstream-response",
            dependencies: [
                "TokenJarGateway",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Fuzz/upstream-response"
        ),
        .executableTarget(name: "fuzz-config", dependencies: ["TokenJarConfig"], path: "Fuzz/config"),
        .executableTarget(
            name: "fuzz-wechat-decrypt",
            dependencies: [
                "TokenJarWeChat",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Fuzz/wechat-decrypt"
        ),
        // Helpers for tests that start real programs (PHP, PostgreSQL, the gateway binary).
        .target(
            name: "TokenJarTestSupport",
            dependencies: [
                "TokenJarGateway", "TokenJarStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TokenJarTestSupport"
        ),
        .testTarget(name: "CookieEngineTests", dependencies: ["CookieEngine"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TokenJarStoreTests",
            dependencies: [
                "TokenJarStore", "TokenJarPostgres", "TokenJarTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "TokenJarGatewayTests",
            dependencies: [
                "TokenJarGateway", "TokenJarStore", "CookieEngine", "TokenJarTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TokenJarAdminTests",
            dependencies: [
                "TokenJarAdmin", "TokenJarGateway", "TokenJarStore", "CookieEngine", "TokenJarTestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "TokenJarConfigTests", dependencies: ["TokenJarConfig"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TokenJarWeChatTests",
            dependencies: [
                "TokenJarWeChat", "TokenJarGateway", "TokenJarStore", "TokenJarConfig", "TokenJarTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
