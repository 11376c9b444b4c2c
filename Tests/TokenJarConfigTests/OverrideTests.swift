import Testing

@testable import TokenJarConfig

@Suite struct EnvironmentTests {
    let file = """
        server:
          listen: "127.0.0.1:8000"
          token_header: "X-File-Token"
        store:
          url: "sqlite:file.db"
        sessions:
          idle_timeout: 1h
        routes:
          - name: default
            upstreams: ["http://127.0.0.1:9000"]
        """

    @Test func environmentWinsOverFile() throws {
        let config = try ConfigLoader.load(yaml: file, environment: [
            "TOKENJAR_SERVER_LISTEN": "0.0.0.0:9090",
            "TOKENJAR_STORE_URL": "memory",
            "TOKENJAR_SESSIONS_IDLE_TIMEOUT": "2h",
            "TOKENJAR_LOG_ACCESS_LOG": "false",
        ])
        #expect(config.server.listen == ListenAddress(host: "0.0.0.0", port: 9090))
        #expect(config.server.tokenHeader == "X-File-Token")
        #expect(config.store.url == .memory)
        #expect(config.sessions.idleTimeout == .seconds(7200))
        #expect(config.log.accessLog == false)
    }

    @Test func everySectionKeyHasAnEnvironmentVariable() {
        let names = ConfigBuilder.knownVariables
        #expect(names.contains("TOKENJAR_SERVER_LISTEN"))
        #expect(names.contains("TOKENJAR_STORE_URL"))
        #expect(names.contains("TOKENJAR_SESSIONS_IDLE_TIMEOUT"))
        #expect(names.contains("TOKENJAR_COOKIES_MAX_PER_JAR"))
        #expect(names.contains("TOKENJAR_ROUTES_UPSTREAMS"))
        let keyCount = ConfigRegistry.sections.reduce(0) { $0 + $1.keys.count }
        #expect(Set(names).count == keyCount + 1)
    }

    @Test func routesUpstreamsReplacesTheDefaultRoute() throws {
        let config = try ConfigLoader.load(yaml: file, environment: [
            "TOKENJAR_ROUTES_UPSTREAMS": "http://10.0.0.1:9000, http://10.0.0.2:9000"
        ])
        #expect(config.routes.count == 1)
        #expect(config.routes[0].upstreams.map(\.description) == ["http://10.0.0.1:9000", "http://10.0.0.2:9000"])
    }

    @Test func routesUpstreamsCreatesADefaultRouteWithoutAFile() throws {
        let config = try ConfigLoader.defaults(environment: ["TOKENJAR_ROUTES_UPSTREAMS": "http://127.0.0.1:9000"])
        #expect(config.routes.count == 1)
        #expect(config.routes[0].name == "default")
        #expect(config.routes[0].pathPrefix == "/")
        try config.validateForServing()
    }

    @Test func routesUpstreamsAppendsACatchAllWhenNoRouteIsTheDefault() throws {
        let yaml = """
            routes:
              - name: a
                path_prefix: /a
                upstreams: ["http://127.0.0.1:9001"]
              - name: b
                path_prefix: /b
                upstreams: ["http://127.0.0.1:9002"]
            """
        let config = try ConfigLoader.load(yaml: yaml, environment: ["TOKENJAR_ROUTES_UPSTREAMS": "http://127.0.0.1:9000"])
        #expect(config.routes.map(\.name) == ["a", "b", "default"])
    }

    @Test func badEnvironmentValueIsNamedByTheVariable() {
        let found = descriptions(yaml: file, environment: [
            "TOKENJAR_STORE_URL": "redis://cache",
            "TOKENJAR_ROUTES_UPSTREAMS": "http://ok:9000,gopher://old",
        ])
        #expect(found == [
            "TOKENJAR_STORE_URL: expected memory, sqlite:PATH or postgres://user@host:port/database, got 'redis://cache'",
            "TOKENJAR_ROUTES_UPSTREAMS[1]: an upstream URL must use http or https, got 'gopher://old'",
        ])
    }

    @Test func unknownVariableOfAKnownSectionIsReported() {
        let found = problems(yaml: "", environment: [
            "TOKENJAR_SERVER_LISEN": "0.0.0.0:1",
            "TOKENJAR_STOR_URL": "memory",
            "TOKENJAR_CONFIG": "/etc/tokenjar.yaml",
            "HOME": "/root",
        ])
        #expect(found.map(\.description) == [
            "TOKENJAR_SERVER_LISEN: unknown environment variable (did you mean 'TOKENJAR_SERVER_LISTEN'?)",
            "TOKENJAR_STOR_URL: unknown environment variable (did you mean 'TOKENJAR_STORE_URL'?)",
        ])
        #expect(found.allSatisfy { $0.kind == .unknownKey })
    }

    @Test func emptyVariableCountsAsUnset() throws {
        let config = try ConfigLoader.load(yaml: file, environment: ["TOKENJAR_SERVER_LISTEN": ""])
        #expect(config.server.listen.port == 8000)
    }

    @Test func problemBetweenKeysNamesTheVariableThatSetIt() {
        let found = descriptions(yaml: file, environment: ["TOKENJAR_SESSIONS_TOUCH_INTERVAL": "2h"])
        #expect(found == [
            "sessions.touch_interval: must be shorter than sessions.idle_timeout (1h), or active sessions could expire "
                + "(set by TOKENJAR_SESSIONS_TOUCH_INTERVAL)"
        ])
    }
}

@Suite struct CommandLineTests {
    @Test func overridesWinOverEnvironmentAndFile() throws {
        let yaml = "server:\n  listen: \"127.0.0.1:8000\"\n"
        let overrides = ConfigOverrides(
            listen: "127.0.0.1:7000",
            upstreams: ["http://127.0.0.1:9100"],
            storeURL: "memory",
            tokenHeader: "X-Flag-Token",
            settings: ["log.level": "debug"]
        )
        let config = try ConfigLoader.load(
            yaml: yaml, environment: ["TOKENJAR_SERVER_LISTEN": "127.0.0.1:9000", "TOKENJAR_STORE_URL": "sqlite:env.db"],
            overrides: overrides)
        #expect(config.server.listen.port == 7000)
        #expect(config.store.url == .memory)
        #expect(config.server.tokenHeader == "X-Flag-Token")
        #expect(config.log.level == .debug)
        #expect(config.routes.map(\.upstreams) == [[UpstreamURL(scheme: .http, host: "127.0.0.1", port: 9100)]])
    }

    @Test func settersChangeNothingWhenRefused() throws {
        var config = GatewayConfig()
        try config.setListen("[::]:8443")
        try config.setUpstreams(["https://php.internal"])
        try config.setStoreURL("sqlite:/tmp/jars.db")
        try config.setTokenHeader("X-Token")
        #expect(config.server.listen == ListenAddress(host: "::", port: 8443))
        #expect(config.routes[0].upstreams[0].port == 443)
        #expect(config.store.url == .sqlite(path: "/tmp/jars.db"))
        #expect(config.server.tokenHeader == "X-Token")

        let before = config
        do throws(ConfigErrors) {
            try config.apply(overrides: ConfigOverrides(listen: "nowhere", tokenHeader: "Connection"))
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.keyPath) == ["server.listen", "server.token_header"])
            #expect(error.problems.allSatisfy { $0.message.hasSuffix("(command line)") })
        }
        #expect(config == before)
    }

    @Test func genericSettingsReachEveryKeyAndTheDefaultRouteUpstreams() throws {
        let overrides = ConfigOverrides(settings: [
            "sessions.idle_timeout": "1d",
            "routes.upstreams": "http://127.0.0.1:9001,http://127.0.0.1:9002",
        ])
        let config = try ConfigLoader.defaults(environment: [:], overrides: overrides)
        #expect(config.sessions.idleTimeout == .seconds(86_400))
        #expect(config.routes.first?.upstreams.count == 2)
    }

    @Test func badUpstreamOverrideIsNamedWithItsPosition() {
        let found = problems(yaml: "", overrides: ConfigOverrides(upstreams: ["http://127.0.0.1:9000", "tcp://x"]))
        #expect(found.map(\.description) == [
            "routes.upstreams[1]: an upstream URL must use http or https, got 'tcp://x' (command line)"
        ])
    }

    @Test func unknownOverrideKeyIsReported() {
        let found = problems(yaml: "", overrides: ConfigOverrides(settings: ["server.max_conections": "5"]))
        #expect(found.map(\.description) == [
            "server.max_conections: unknown key 'server.max_conections' (did you mean 'server.max_connections'?) (command line)"
        ])
    }
}
