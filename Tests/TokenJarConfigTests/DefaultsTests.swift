import Testing

@testable import TokenJarConfig

@Suite struct DefaultsTests {
    @Test func defaultValuesMatchTheSchema() {
        let config = GatewayConfig()
        #expect(config.server.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.server.eventLoops == 0)
        #expect(config.server.tokenHeader == "X-Session-Token")
        #expect(config.server.scheme == .http)
        #expect(config.server.trustForwardedProto == false)
        #expect(config.server.reservedPrefix == "/_tokenjar")
        #expect(config.server.maxHeaderBytes == 32 * 1024)
        #expect(config.server.maxBodyBytes == 10 * 1024 * 1024)
        #expect(config.server.maxConnections == 10_000)
        #expect(config.server.headerReadTimeout == .seconds(10))
        #expect(config.server.shutdownGrace == .seconds(10))
        #expect(config.store.url == .sqlite(path: "tokenjar.db"))
        #expect(config.store.sqliteSynchronous == .full)
        #expect(config.store.cacheEntries == 100_000)
        #expect(config.sessions.idleTimeout == .seconds(7 * 86_400))
        #expect(config.sessions.absoluteLifetime == .seconds(30 * 86_400))
        #expect(config.sessions.sweepInterval == .seconds(60))
        #expect(config.sessions.touchInterval == .seconds(60))
        #expect(config.cookies.publicSuffixList == "")
        #expect(config.cookies.maxPerJar == 3000)
        #expect(config.cookies.maxPerDomain == 50)
        #expect(config.cookies.maxCookieBytes == 4096)
        #expect(config.log.level == .info)
        #expect(config.log.format == .text)
        #expect(config.log.accessLog == true)
        #expect(config.routes.isEmpty)
    }

    @Test func routeDefaults() {
        let route = RouteConfig()
        #expect(route.name == "default")
        #expect(route.host == nil)
        #expect(route.pathPrefix == "/")
        #expect(route.stripPrefix == false)
        #expect(route.upstreams.isEmpty)
        #expect(route.mint == .auto)
        #expect(route.setCookie == .strip)
        #expect(route.clientCookies == .merge)
        #expect(route.connectTimeout == .seconds(2))
        #expect(route.responseTimeout == .seconds(30))
        #expect(route.bodyIdleTimeout == .seconds(30))
        #expect(route.maxBodyBytes == nil)
        #expect(route.effectiveMaxBodyBytes(server: ServerConfig()) == 10 * 1024 * 1024)
    }

    @Test func noFileAndNoEnvironmentGivesTheDefaults() throws {
        #expect(try ConfigLoader.defaults(environment: [:]) == GatewayConfig())
        #expect(try ConfigLoader.load(yaml: "", environment: [:]) == GatewayConfig())
        #expect(try ConfigLoader.load(yaml: "# only a comment\n", environment: [:]) == GatewayConfig())
        #expect(try ConfigLoader.load(yaml: "server:\nstore: ~\n", environment: [:]) == GatewayConfig())
    }

    @Test func defaultsAreValidButNeedARouteToServe() throws {
        let config = GatewayConfig()
        try config.validate()
        #expect(config.servingProblems().map(\.keyPath) == ["routes"])
        #expect(throws: ConfigErrors.self) { try config.validateForServing() }
    }

    @Test func nullValuesKeepTheDefault() throws {
        let config = try ConfigLoader.load(yaml: "server:\n  listen:\n  event_loops: ~\n", environment: [:])
        #expect(config == GatewayConfig())
    }
}

@Suite("Secrets in descriptions")
struct SecretDescriptionTests {
    @Test("a printed configuration never shows the store keys, the WeChat secret or the admin token")
    func printedConfigurationIsRedacted() {
        var cfg = GatewayConfig()
        cfg.store.encryptionKeys = "k1:c2VjcmV0LXN0b3JlLWtleS1zZWNyZXQtc3RvcmUta2V5MTI="
        cfg.wechat.secret = "wechat-app-secret-value"
        cfg.admin.token = "admin-bearer-token-value"
        for text in [String(describing: cfg), String(reflecting: cfg), "\(cfg.store) \(cfg.wechat) \(cfg.admin)"] {
            #expect(!text.contains("c2VjcmV0"))
            #expect(!text.contains("wechat-app-secret-value"))
            #expect(!text.contains("admin-bearer-token-value"))
            #expect(text.contains("(secret)"))
        }
    }
}
