import Testing

@testable import TokenJarConfig

@Suite struct DurationTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("2h", .seconds(7200)),
        ("7d", .seconds(604_800)),
        ("30", .seconds(30)),
        ("0", .zero),
        (" 10 s ", .seconds(10)),
        ("1_000ms", .seconds(1)),
        ("2H", .seconds(7200)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try ConfigFormats.parseDuration(text) == expected)
    }

    @Test(arguments: ["", "abc", "-5s", "1.5h", "10 minutes", "5w", "s", "99999999999999999999d", "9223372036854775807d"])
    func rejects(text: String) {
        #expect(throws: ConfigValueError.self) { try ConfigFormats.parseDuration(text) }
    }

    @Test func messagesSayWhatIsExpected() {
        #expect(problems(yaml: "sessions:\n  idle_timeout: 1.5h\n").map(\.message) == [
            "fractions are not supported; use a smaller unit, as in 90m or 1500ms, got '1.5h'"
        ])
        #expect(problems(yaml: "sessions:\n  idle_timeout: soon\n").map(\.message) == [
            "expected a duration such as 250ms, 30s, 5m, 2h, 7d or a whole number of seconds, got 'soon'"
        ])
        #expect(problems(yaml: "routes:\n  - upstreams: [\"http://a:1\"]\n    connect_timeout: 0\n").map(\.message) == [
            "must be longer than 0, got '0'"
        ])
    }

    @Test(arguments: [
        (Duration.seconds(604_800), "7d"), (.seconds(60), "1m"), (.seconds(90), "90s"),
        (.milliseconds(2500), "2500ms"), (.zero, "0s"), (.seconds(7200), "2h"),
    ])
    func formats(duration: Duration, expected: String) throws {
        #expect(ConfigFormats.formatDuration(duration) == expected)
        #expect(try ConfigFormats.parseDuration(expected) == duration)
    }
}

@Suite struct SizeTests {
    @Test(arguments: [
        ("512", 512), ("512B", 512), ("64KiB", 65_536), ("10MiB", 10_485_760), ("1GiB", 1_073_741_824),
        ("4kib", 4096), ("0", 0), ("100_000", 100_000),
    ])
    func parses(text: String, expected: Int) throws {
        #expect(try ConfigFormats.parseSize(text) == expected)
    }

    @Test(arguments: ["", "big", "-1", "1.5MiB", "10TiB", "99999999999999999999", "9999999999999GiB"])
    func rejects(text: String) {
        #expect(throws: ConfigValueError.self) { try ConfigFormats.parseSize(text) }
    }

    @Test func decimalUnitsAreRefusedWithAHint() {
        #expect(problems(yaml: "server:\n  max_body_bytes: 10MB\n").map(\.message) == [
            "ambiguous unit 'MB'; use KiB, MiB or GiB (powers of 1024), got '10MB'"
        ])
    }

    @Test(arguments: [(32768, "32KiB"), (10_485_760, "10MiB"), (4096, "4KiB"), (1000, "1000"), (0, "0")])
    func formats(bytes: Int, expected: String) {
        #expect(ConfigFormats.formatSize(bytes) == expected)
    }
}

@Suite struct AddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080), ("0.0.0.0:80", "0.0.0.0", 80), ("[::1]:8080", "::1", 8080),
        ("[::]:443", "::", 443), ("localhost:65535", "localhost", 65535), ("Gateway.Internal:1", "gateway.internal", 1),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(arguments: [
        ("8080", "expected HOST:PORT such as 127.0.0.1:8080, not a bare port"),
        (":8080", "missing host; use 0.0.0.0:8080 for every IPv4 interface or [::]:8080 for every interface"),
        ("localhost", "missing ':PORT'"),
        ("127.0.0.1:0", "port must be between 1 and 65535"),
        ("127.0.0.1:http", "port must be a number between 1 and 65535"),
        ("::1:8080", "an IPv6 address must be written in brackets, as in [::1]:8080"),
        ("[::1:8080", "missing ']' after an IPv6 address"),
        ("[nothex]:80", "'[nothex]' is not an IPv6 address"),
        ("256.1.1.1:80", "'256.1.1.1' is not an IPv4 address"),
        ("bad_host-:80", "'bad_host-' is not a valid host name"),
        ("http://127.0.0.1:80", "expected HOST:PORT such as 127.0.0.1:8080, not a URL"),
    ])
    func rejects(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try ListenAddress(parsing: text) }
    }

    @Test func describesIPv6InBrackets() throws {
        #expect(try ListenAddress(parsing: "[::1]:8080").description == "[::1]:8080")
        #expect(ListenAddress(host: "127.0.0.1", port: 80).description == "127.0.0.1:80")
    }
}

@Suite struct UpstreamURLTests {
    @Test(arguments: [
        ("http://127.0.0.1:9000", UpstreamURL.Scheme.http, "127.0.0.1", 9000, ""),
        ("https://php.internal", .https, "php.internal", 443, ""),
        ("http://php.internal", .http, "php.internal", 80, ""),
        ("HTTP://PHP.Internal:8080/app/", .http, "php.internal", 8080, "/app"),
        ("http://[::1]:8080/a/b", .http, "::1", 8080, "/a/b"),
        ("http://tomcat:8081/", .http, "tomcat", 8081, ""),
        ("http://tomcat:8081/~app/a%20b;v=1", .http, "tomcat", 8081, "/~app/a%20b;v=1"),
    ])
    func parses(text: String, scheme: UpstreamURL.Scheme, host: String, port: Int, basePath: String) throws {
        let url = try UpstreamURL(parsing: text)
        #expect(url == UpstreamURL(scheme: scheme, host: host, port: port, basePath: basePath))
    }

    @Test(arguments: [
        ("ftp://files", "an upstream URL must use http or https"),
        ("127.0.0.1:9000", "expected an http or https URL such as http://127.0.0.1:9000"),
        ("http://", "an upstream URL needs a host"),
        ("http:///path", "an upstream URL needs a host"),
        ("http://user:pw@host", "an upstream URL cannot carry credentials"),
        ("http://host/?a=1", "an upstream URL cannot have a query or a fragment"),
        ("http://host/#top", "an upstream URL cannot have a query or a fragment"),
        ("http://host:0", "port must be between 1 and 65535"),
        ("http://host:99999", "port must be between 1 and 65535"),
        ("http://ho st", "an upstream URL cannot contain spaces"),
        ("http://host//x", "the base path contains an empty segment"),
        ("http://host/a,b", "an upstream URL cannot contain ',' (commas separate URLs in a list)"),
        ("http://host/a\u{1}b", "the base path may hold only URL characters (percent-encode the rest)"),
        ("http://host/a{b}", "the base path may hold only URL characters (percent-encode the rest)"),
        ("http://host/caf\u{E9}", "the base path may hold only URL characters (percent-encode the rest)"),
    ])
    func rejects(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try UpstreamURL(parsing: text) }
    }

    @Test func describesWithoutDefaultPort() throws {
        #expect(try UpstreamURL(parsing: "https://a:443/x").description == "https://a/x")
        #expect(try UpstreamURL(parsing: "http://[::1]:81").authority == "[::1]:81")
    }
}

@Suite struct HostPatternTests {
    @Test func exactAndWildcardMatching() throws {
        let exact = try HostPattern(parsing: "API.Example.com")
        #expect(exact.pattern == "api.example.com")
        #expect(exact.matches(hostHeader: "api.example.com:8443"))
        #expect(exact.matches(hostHeader: "API.EXAMPLE.COM."))
        #expect(!exact.matches(hostHeader: "www.example.com"))

        let wildcard = try HostPattern(parsing: "*.example.com")
        #expect(wildcard.isWildcard)
        #expect(wildcard.matches(hostHeader: "a.example.com"))
        #expect(wildcard.matches(hostHeader: "a.b.example.com:80"))
        #expect(!wildcard.matches(hostHeader: "example.com"))
        #expect(!wildcard.matches(hostHeader: "badexample.com"))

        let v6 = try HostPattern(parsing: "[::1]")
        #expect(v6.matches(hostHeader: "[::1]:8080"))
    }

    @Test(arguments: ["*", "a.*.com", "*example.com", "api.example.com:80", "bad host", "*."])
    func rejectsOrMeansAny(text: String) throws {
        if text == "*" {
            // "*" is accepted in a file as "any host".
            #expect(try ConfigValueType<HostPattern?>.hostPattern.parse(RawValue(text: text), ValueDisplay(isSecret: false)) == nil)
        } else {
            #expect(throws: ConfigValueError.self) { try HostPattern(parsing: text) }
        }
    }
}

@Suite struct StoreURLTests {
    @Test func parsesEachKind() throws {
        #expect(try StoreURL(parsing: "memory") == .memory)
        #expect(try StoreURL(parsing: "sqlite:tokenjar.db") == .sqlite(path: "tokenjar.db"))
        #expect(try StoreURL(parsing: "sqlite:///var/lib/tokenjar.db") == .sqlite(path: "/var/lib/tokenjar.db"))
        let postgres = try StoreURL(parsing: "postgres://tokenjar@db.internal/jars")
        guard case .postgres(let url) = postgres else {
            Issue.record("expected postgres")
            return
        }
        #expect(url.user == "tokenjar")
        #expect(url.password == nil)
        #expect(url.port == 5432)
        #expect(url.database == "jars")
        #expect(postgres.kind == "postgres")
        #expect(!postgres.isExclusive)
        #expect(StoreURL.memory.isExclusive)
    }

    @Test(arguments: ["", "redis://x", "sqlite:", "postgres://db/jars", "postgres://u@db", "postgres://u@/jars"])
    func rejects(text: String) {
        #expect(throws: ConfigValueError.self) { try StoreURL(parsing: text) }
    }
}
