import Testing

@testable import TokenJarConfig

@Suite struct ProblemTests {
    @Test func unknownKeyNamesItsPathAndLineWithASuggestion() {
        let found = problems(yaml: "server:\n  lisen: \"0.0.0.0:8080\"\n")
        #expect(found.map(\.description) == ["server.lisen: unknown key 'lisen' (did you mean 'listen'?) (line 2)"])
        #expect(found.first?.kind == .unknownKey)
        #expect(found.first?.keyPath == "server.lisen")
        #expect(found.first?.line == 2)
    }

    @Test func badEnumValueNamesTheRouteKey() {
        let yaml = """
            routes:
              - name: api
                upstreams: ["http://php:9000"]
                mint: sometimes
            """
        #expect(descriptions(yaml: yaml) == ["routes[0].mint: expected one of auto, never, got 'sometimes' (line 4)"])
    }

    @Test func everyProblemIsReportedTogether() throws {
        let found = problems(yaml: try Fixtures.text("broken.yaml"))
        #expect(found.map(\.description) == [
            "server.lisen: unknown key 'lisen' (did you mean 'listen'?) (line 2)",
            "server.max_connections: must be at least 1, got '0' (line 3)",
            "server.token_header: cannot carry the token: it is a hop-by-hop, cookie or framing header, got 'Cookie' (line 4)",
            "store.url: expected memory, sqlite:PATH or postgres://user@host:port/database, got 'redis://cache:6379' (line 6)",
            "routes[0].upstreams[0]: an upstream URL must use http or https, got 'ftp://files.example.com' (line 9)",
            "routes[0].mint: expected one of auto, never, got 'sometimes' (line 10)",
            "routes[1].name: duplicate route name 'api' (also routes[0].name) (line 11)",
            "routes[1].upstreams: a route needs at least one upstream (line 12)",
            "routes[1]: never reached: routes[0] ('api') comes first and takes every request this route would (line 11)",
        ])
    }

    @Test func yamlSyntaxErrorIsOneProblemWithItsLine() {
        let found = problems(yaml: "server:\n  listen: \"127.0.0.1:8080\"\n event_loops: 2\n")
        #expect(found.count == 1)
        #expect(found.first?.kind == .syntax)
        #expect(found.first?.line == 3)
        #expect(found.first?.description.hasPrefix("invalid YAML: ") == true)
    }

    @Test func syntaxErrorsDoNotQuoteTheDocument() {
        let found = problems(yaml: "store:\n  url: \"postgres://u:hunter2@db/x\n")
        #expect(found.count == 1)
        #expect(found.first?.kind == .syntax)
        #expect(found.allSatisfy { !$0.description.contains("hunter2") })
    }

    @Test func duplicateKeyIsASyntaxProblem() {
        let found = problems(yaml: "server:\n  listen: \"127.0.0.1:1\"\n  listen: \"127.0.0.1:2\"\n")
        #expect(found.map(\.message) == ["duplicate key 'listen'"])
        #expect(found.first?.line != nil)
    }

    @Test func wrongShapesAreReported() {
        #expect(descriptions(yaml: "server: 5\n") == ["server: expected a mapping of server settings, got a single value (line 1)"])
        #expect(descriptions(yaml: "server:\n  listen: [a, b]\n") == ["server.listen: expected an address, got a list (line 2)"])
        #expect(descriptions(yaml: "routes:\n  default:\n    upstreams: []\n") == [
            "routes: expected a list of routes (each item starting with '- name:'), got a mapping (line 2)"
        ])
        #expect(descriptions(yaml: "- server\n") == [
            "the file must be a mapping of sections (server:, store:, routes:, ...), got a list (line 1)"
        ])
        #expect(descriptions(yaml: "routes:\n  - just-a-name\n") == [
            "routes[0]: expected a mapping of route settings, got a single value (line 2)"
        ])
    }

    @Test func misplacedAndMisspelledKeysGetSuggestions() {
        #expect(descriptions(yaml: "listen: \"0.0.0.0:80\"\n") == [
            "listen: unknown key 'listen' (did you mean 'server.listen'? keys belong under their section) (line 1)"
        ])
        #expect(descriptions(yaml: "sever: {}\n") == ["sever: unknown key 'sever' (did you mean 'server'?) (line 1)"])
        #expect(descriptions(yaml: "routes:\n  - pathPrefix: /a\n    upstreams: [\"http://a:1\"]\n") == [
            "routes[0].pathPrefix: unknown key 'pathPrefix' (did you mean 'path_prefix'?) (line 2)"
        ])
        #expect(descriptions(yaml: "log:\n  colour: true\n") == ["log.colour: unknown key 'colour' (line 2)"])
    }

    @Test(arguments: [
        ("X Session", "expected an HTTP header name (letters, digits and -)"),
        ("", "expected an HTTP header name (letters, digits and -)"),
        ("Transfer-Encoding", "cannot carry the token: it is a hop-by-hop, cookie or framing header"),
        ("connection", "cannot carry the token: it is a hop-by-hop, cookie or framing header"),
        ("Set-Cookie", "cannot carry the token: it is a hop-by-hop, cookie or framing header"),
    ])
    func tokenHeaderMustBeAUsableFieldName(name: String, message: String) {
        let found = problems(yaml: "server:\n  token_header: \"\(name)\"\n")
        #expect(found.map(\.message) == ["\(message), got '\(name)'"])
    }

    @Test func reservedPrefixMustBeAPath() throws {
        #expect(problems(yaml: "server:\n  reserved_prefix: _tokenjar\n").map(\.message) == [
            "must start with '/', got '_tokenjar'"
        ])
        #expect(problems(yaml: "server:\n  reserved_prefix: /\n").map(\.message) == [
            "cannot be '/': every request would be reserved, got '/'"
        ])
        let config = try #require(load(yaml: "server:\n  reserved_prefix: /_admin/\n"))
        #expect(config.server.reservedPrefix == "/_admin")
    }

    @Test func outOfRangeNumbers() {
        let yaml = """
            server:
              listen: "127.0.0.1:70000"
              event_loops: -1
              max_header_bytes: 512
            cookies:
              max_per_jar: 0
            """
        #expect(descriptions(yaml: yaml) == [
            "server.listen: port must be between 1 and 65535, got '127.0.0.1:70000' (line 2)",
            "server.event_loops: must be between 0 and 1024, got '-1' (line 3)",
            "server.max_header_bytes: must be at least 1KiB, got '512' (line 4)",
            "cookies.max_per_jar: must be at least 1, got '0' (line 6)",
        ])
    }

    @Test func rulesBetweenKeysPointAtTheLine() {
        let yaml = """
            sessions:
              idle_timeout: 1m
              touch_interval: 5m
            cookies:
              max_per_jar: 10
              max_per_domain: 20
            routes:
              - name: admin
                path_prefix: /_tokenjar/admin
                upstreams: ["http://a:1", "http://a:1/"]
              - name: api
                host: api.example.com
                upstreams: ["http://b:1"]
              - name: api-v2
                host: API.example.com
                upstreams: ["http://c:1"]
            """
        #expect(descriptions(yaml: yaml) == [
            "routes[0].upstreams[1]: duplicate upstream 'http://a:1' (also routes[0].upstreams[0]) (line 10)",
            "routes[0].path_prefix: '/_tokenjar/admin' lies under server.reserved_prefix '/_tokenjar'; "
                + "no request would reach this route (line 9)",
            "routes[2]: never reached: routes[1] ('api') comes first and takes every request this route would (line 14)",
            "sessions.touch_interval: must be shorter than sessions.idle_timeout (1m), or active sessions could expire (line 3)",
            "cookies.max_per_domain: cannot be larger than cookies.max_per_jar (10) (line 6)",
        ])
    }

    @Test func validateChecksValuesSetInCode() {
        var config = GatewayConfig()
        config.server.listen.port = 0
        config.server.tokenHeader = "Cookie"
        config.routes = [RouteConfig(name: "bad name")]
        do throws(ConfigErrors) {
            try config.validate()
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.keyPath) == [
                "server.listen", "server.token_header", "routes[0].name", "routes[0].upstreams",
            ])
        }
    }

    @Test func secretValuesNeverAppearInMessages() {
        struct Vault: Sendable { var token = "" }
        let key = ConfigKey<Vault>.key(
            "token",
            .string("token") { text throws(ConfigValueError) in
                guard text.count >= 32 else { throw ConfigValueError("must be at least 32 characters") }
                return text
            },
            \.token, secret: true, doc: "An admin token.")
        var vault = Vault()
        do throws(ValueProblems) {
            try key.apply(&vault, RawValue(text: "hunter2"))
            Issue.record("expected a problem")
        } catch {
            #expect(error.items.map(\.message) == ["must be at least 32 characters (the value is secret and not shown)"])
        }
        vault.token = "hunter2"
        #expect(key.displayValue(in: vault) == "(secret)")
        #expect(key.recheck(vault).allSatisfy { !$0.message.contains("hunter2") })
    }

    @Test func urlPasswordsAreMaskedInMessages() {
        let found = problems(yaml: "store:\n  url: \"postgres://tokenjar:hunter2@/jars\"\n")
        #expect(found.map(\.message) == ["a postgres URL needs a host, got 'postgres://tokenjar:***@/jars'"])
        let upstream = problems(yaml: "routes:\n  - upstreams: [\"http://user:hunter2@php:80\"]\n")
        #expect(upstream.map(\.message) == ["an upstream URL cannot carry credentials, got 'http://user:***@php:80'"])
    }

    @Test func problemDescriptionFormat() {
        let problem = ConfigProblem(.invalidValue, keyPath: "routes[0].mint", line: 12,
                                    message: "expected one of auto, never, got 'sometimes'")
        #expect(problem.description == "routes[0].mint: expected one of auto, never, got 'sometimes' (line 12)")
        let errors = ConfigErrors([problem, ConfigProblem(.syntax, keyPath: "", message: "invalid YAML")])
        #expect(errors.description == "routes[0].mint: expected one of auto, never, got 'sometimes' (line 12)\ninvalid YAML")
    }
}

/// Types that sections still to come (an admin listener, an API base URL) can use.
@Suite struct FutureKeyTypeTests {
    struct Admin: Sendable {
        var listen: ListenAddress? = nil
        var apiBase = UpstreamURL(scheme: .https, host: "api.example.com")
    }

    @Test func optionalAddressAndURL() throws {
        let listen = ConfigKey<Admin>.key("listen", .optionalAddress, \.listen, doc: "")
        let apiBase = ConfigKey<Admin>.key("api_base", .url, \.apiBase, doc: "")
        var admin = Admin()
        #expect(listen.displayValue(in: admin) == "")
        try listen.apply(&admin, RawValue(text: "127.0.0.1:9901"))
        #expect(admin.listen == ListenAddress(host: "127.0.0.1", port: 9901))
        try listen.apply(&admin, RawValue(text: ""))
        #expect(admin.listen == nil)
        try apiBase.apply(&admin, RawValue(text: "https://api.weixin.qq.com"))
        #expect(apiBase.displayValue(in: admin) == "https://api.weixin.qq.com")
        #expect(throws: ValueProblems.self) { try apiBase.apply(&admin, RawValue(text: "ftp://x")) }
    }
}
