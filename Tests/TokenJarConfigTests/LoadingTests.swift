import Testing

@testable import TokenJarConfig

@Suite struct LoadingTests {
    @Test func fullFileLoadsIntoTheExpectedValues() throws {
        let config = try ConfigLoader.load(file: Fixtures.path("full.yaml"), environment: [:])

        var expected = GatewayConfig()
        expected.server = ServerConfig(
            listen: ListenAddress(host: "::1", port: 9443),
            eventLoops: 4,
            tokenHeader: "X-Mini-Token",
            scheme: .https,
            trustForwardedProto: true,
            reservedPrefix: "/_gw",
            maxHeaderBytes: 64 * 1024,
            maxBodyBytes: 1 << 30,
            maxConnections: 500,
            headerReadTimeout: .milliseconds(2500),
            shutdownGrace: .zero
        )
        expected.store = StoreConfig(
            url: try StoreURL(parsing: "postgres://tokenjar:s3cret@db.internal:6432/jars?sslmode=require"),
            sqliteSynchronous: .normal,
            cacheEntries: 0
        )
        expected.sessions = SessionsConfig(
            idleTimeout: .seconds(7200), absoluteLifetime: .seconds(86_400),
            sweepInterval: .seconds(300), touchInterval: .seconds(30))
        expected.cookies = CookiesConfig(
            publicSuffixList: "/etc/tokenjar/public_suffix_list.dat", maxPerJar: 100, maxPerDomain: 20,
            maxCookieBytes: 8192)
        expected.log = LogConfig(level: .debug, format: .json, accessLog: false)
        expected.routes = [
            RouteConfig(
                name: "api",
                host: try HostPattern(parsing: "api.example.com"),
                pathPrefix: "/api",
                stripPrefix: true,
                upstreams: [
                    UpstreamURL(scheme: .http, host: "10.0.0.1", port: 8080, basePath: "/base"),
                    UpstreamURL(scheme: .https, host: "backend.example.com"),
                ],
                mint: .never,
                setCookie: .pass,
                clientCookies: .drop,
                connectTimeout: .milliseconds(500),
                responseTimeout: .seconds(60),
                bodyIdleTimeout: .seconds(45),
                maxBodyBytes: 2 << 20
            ),
            RouteConfig(
                name: "route-1",
                host: try HostPattern(parsing: "*.example.com"),
                upstreams: [UpstreamURL(scheme: .http, host: "127.0.0.1", port: 9000)]
            ),
        ]
        #expect(config == expected)
        try config.validateForServing()
    }

    @Test func postgresPasswordIsKeptButNeverShown() throws {
        let config = try ConfigLoader.load(file: Fixtures.path("full.yaml"), environment: [:])
        guard case .postgres(let url) = config.store.url else {
            Issue.record("expected a postgres store")
            return
        }
        #expect(url.password == "s3cret")
        #expect(url.port == 6432)
        #expect(url.parameters == [PostgresURL.Parameter(name: "sslmode", value: "require")])
        #expect(!config.store.url.description.contains("s3cret"))
        #expect(config.store.url.description == "postgres://tokenjar:***@db.internal:6432/jars?sslmode=require")
    }

    @Test func mergeKeysShareRouteSettings() throws {
        let yaml = """
            routes:
              - &slow
                name: reports
                path_prefix: /reports
                response_timeout: 5m
                upstreams: ["http://127.0.0.1:9001"]
              - <<: *slow
                name: exports
                path_prefix: /exports
            """
        let config = try #require(load(yaml: yaml))
        #expect(config.routes.map(\.name) == ["reports", "exports"])
        #expect(config.routes[1].responseTimeout == .seconds(300))
        #expect(config.routes[1].pathPrefix == "/exports")
        #expect(config.routes[1].upstreams == config.routes[0].upstreams)
    }

    @Test func unnamedRoutesGetPositionalNames() throws {
        let yaml = """
            routes:
              - path_prefix: /a
                upstreams: ["http://127.0.0.1:9001"]
              - upstreams: ["http://127.0.0.1:9002"]
            """
        let config = try #require(load(yaml: yaml))
        #expect(config.routes.map(\.name) == ["default", "route-1"])
    }

    @Test func valuesMayBeQuotedOrNot() throws {
        let yaml = """
            server:
              event_loops: "2"
              max_body_bytes: 1048576
              header_read_timeout: "15"
              trust_forwarded_proto: "on"
            log:
              level: WARNING
            """
        let config = try #require(load(yaml: yaml))
        #expect(config.server.eventLoops == 2)
        #expect(config.server.maxBodyBytes == 1 << 20)
        #expect(config.server.headerReadTimeout == .seconds(15))
        #expect(config.server.trustForwardedProto)
        #expect(config.log.level == .warning)
    }

    @Test func routeBodyLimitEmptyStringMeansServerLimit() throws {
        let yaml = """
            server:
              max_body_bytes: 1MiB
            routes:
              - upstreams: ["http://127.0.0.1:9000"]
                max_body_bytes: ""
            """
        let config = try #require(load(yaml: yaml))
        #expect(config.routes[0].maxBodyBytes == nil)
        #expect(config.routes[0].effectiveMaxBodyBytes(server: config.server) == 1 << 20)
    }

    @Test func anyHostPatternIsNil() throws {
        let yaml = """
            routes:
              - host: ""
                upstreams: ["http://127.0.0.1:9000"]
            """
        let config = try #require(load(yaml: yaml))
        #expect(config.routes[0].host == nil)
    }
}
