import Testing

@testable import CookieEngine

@Suite("URLs, domain and path matching (§5.1.2-§5.1.4)")
struct MatchingTests {
    @Test("CookieURL parsing")
    func urlParsing() throws {
        let u = try #require(CookieURL(string: "HTTP://Home.Example.ORG:8888/cookie-parser?0001#frag"))
        #expect(!u.isSecure)
        #expect(u.host == "home.example.org")
        #expect(u.path == "/cookie-parser")
        #expect(!u.hostIsIPAddress && !u.hostIsLoopback)

        let s = try #require(CookieURL(string: "https://user:pw@api.example.com"))
        #expect(s.isSecure && s.host == "api.example.com" && s.path == "/")

        let v6 = try #require(CookieURL(string: "https://[::1]:8443/a/b?q"))
        #expect(v6.host == "[::1]" && v6.hostIsIPAddress && v6.hostIsLoopback && v6.path == "/a/b")

        let ip = try #require(CookieURL(string: "http://127.0.0.1:8080"))
        #expect(ip.hostIsIPAddress && ip.hostIsLoopback)
        #expect(CookieURL(string: "http://10.1.2.3/")?.hostIsIPAddress == true)
        #expect(CookieURL(string: "http://1.2.3.example/")?.hostIsIPAddress == false)
        #expect(CookieURL(string: "http://app.localhost/")?.hostIsLoopback == true)
        #expect(CookieURL(string: "wss://x.example/")?.isSecure == true)

        #expect(CookieURL(string: "ftp://example.com/") == nil)
        #expect(CookieURL(string: "http:///path") == nil)
        #expect(CookieURL(string: "example.com/path") == nil)
    }

    @Test("CookieURL from parts")
    func urlParts() {
        let u = CookieURL(isSecure: true, host: "API.Example.com:8443", path: "/app/login?next=/x")
        #expect(u.isSecure && u.host == "api.example.com" && u.path == "/app/login")
        #expect(CookieURL(isSecure: false, host: "[::1]:80", path: "").host == "[::1]")
        #expect(CookieURL(isSecure: false, host: "::1", path: "/").host == "[::1]")
        #expect(CookieURL(isSecure: false, host: "example.com", path: "").path == "/")
        #expect(CookieURL(isSecure: false, host: "example.com", path: "*").path == "/")
    }

    static let defaultPaths: [(String, String)] = [
        ("", "/"), ("/", "/"), ("/a", "/"), ("/a/b", "/a"), ("/a/b/", "/a/b"), ("/a//b", "/a/"),
        ("/cookie-parser", "/"), ("/app/login?x=/y/z", "/app"),
    ]

    @Test("default-path", arguments: defaultPaths)
    func defaultPath(_ path: String, _ expected: String) {
        #expect(CookieURL(isSecure: false, host: "example.com", path: path).defaultPath == expected)
    }

    static let domainMatches: [(String, String, Bool, Bool)] = [
        ("example.org", "example.org", false, true),
        ("home.example.org", "example.org", false, true),
        ("a.b.example.org", "example.org", false, true),
        ("home.example.org", "ample.org", false, false),
        ("badexample.org", "example.org", false, false),
        ("example.org", "home.example.org", false, false),
        ("example.org", "", false, false),
        ("127.0.0.1", "127.0.0.1", true, true),
        ("127.0.0.1", "0.0.1", true, false),
    ]

    @Test("domain-match", arguments: domainMatches)
    func domainMatch(_ host: String, _ domain: String, _ ip: Bool, _ expected: Bool) {
        #expect(Match.domain(host, domain, hostIsIP: ip) == expected)
    }

    static let pathMatches: [(String, String, Bool)] = [
        ("/", "/", true), ("/foo", "/", true), ("/foo", "/foo", true), ("/foo/bar", "/foo", true),
        ("/foo/", "/foo/", true), ("/foo/bar", "/foo/", true), ("/foobar", "/foo", false),
        ("/fo", "/foo", false), ("/Foo", "/foo", false), ("/foo//bar", "/foo/", true),
        ("/f%6Fo/bar", "/foo/bar", false), ("/foo", "", false),
    ]

    @Test("path-match", arguments: pathMatches)
    func pathMatch(_ request: String, _ cookie: String, _ expected: Bool) {
        #expect(Match.path(request, cookie) == expected)
    }

    @Test("host-only versus Domain cookies")
    func hostOnlyVersusDomain() throws {
        var j = jar(["h=1", "d=2; Domain=example.com", "e=3; Domain=.WWW.Example.COM"], from: "http://www.example.com/")
        let cookies = Dictionary(uniqueKeysWithValues: j.cookies.map { ($0.name, $0) })
        #expect(cookies["h"]?.hostOnly == true && cookies["h"]?.domain == "www.example.com")
        #expect(cookies["d"]?.hostOnly == false && cookies["d"]?.domain == "example.com")
        #expect(cookies["e"]?.hostOnly == false && cookies["e"]?.domain == "www.example.com")
        #expect(header(&j, "http://www.example.com/") == "h=1; d=2; e=3")
        #expect(header(&j, "http://example.com/") == "d=2")
        #expect(header(&j, "http://a.www.example.com/") == "d=2; e=3")
        #expect(header(&j, "http://badexample.com/") == nil)
        #expect(header(&j, "http://www.example.com.evil/") == nil)
        // The port never matters.
        #expect(header(&j, "http://www.example.com:8080/") == "h=1; d=2; e=3")
    }

    @Test("Domain attributes that do not domain-match are refused")
    func domainMismatch() {
        #expect(rejection(outcome("a=1; Domain=other.com")) == .domainMismatch)
        #expect(rejection(outcome("a=1; Domain=sub.www.example.com")) == .domainMismatch)
        #expect(rejection(outcome("a=1; Domain=..example.com")) == .domainMismatch)
        #expect(rejection(outcome("a=1; Domain=example.com.")) == .domainMismatch)
        #expect(rejection(outcome("a=1; Domain=例子.com")) == .nonASCIIDomain)
        // The last Domain attribute counts; an empty one makes the cookie host-only.
        #expect(storedCookie(outcome("a=1; Domain=other.com; Domain=example.com"))?.domain == "example.com")
        #expect(rejection(outcome("a=1; Domain=example.com; Domain=other.com")) == .domainMismatch)
        let c = storedCookie(outcome("a=1; Domain=example.com; Domain="))
        #expect(c?.hostOnly == true && c?.domain == "www.example.com")
    }

    @Test("path attribute and default-path")
    func pathAttribute() {
        var j = jar(["a=1", "b=2; Path=/app", "c=3; Path=app", "d=4; Path=", "e=5; Path=/app/; Path=/x"],
                    from: "http://example.com/app/login")
        let paths = Dictionary(uniqueKeysWithValues: j.cookies.map { ($0.name, $0.path) })
        #expect(paths == ["a": "/app", "b": "/app", "c": "/app", "d": "/app", "e": "/x"])
        #expect(header(&j, "http://example.com/app") == "a=1; b=2; c=3; d=4")
        #expect(header(&j, "http://example.com/apple") == nil)
        #expect(header(&j, "http://example.com/x/y") == "e=5")
    }

    @Test("Cookie header order: longer paths first, then earlier creation")
    func headerOrder() {
        var j = CookieJar()
        let u = url("http://example.com/a/b/c")
        j.receive(setCookie: ["z=1; Path=/", "y=2; Path=/a/b", "x=3; Path=/a", "w=4; Path=/a/b"], from: u, now: t0)
        j.receive(setCookie: ["v=5; Path=/a/b/c"], from: u, now: t0.plus(1))
        // Replacing keeps the creation time, so z stays ahead of later "/" cookies.
        j.receive(setCookie: ["u=6; Path=/", "z=7; Path=/"], from: u, now: t0.plus(2))
        #expect(j.cookieHeader(for: u, now: t0.plus(3)) == "v=5; y=2; w=4; x=3; z=7; u=6")
        #expect(j.cookies.map(\.name) == ["v", "y", "w", "x", "z", "u"])
    }

    @Test("creation times are strictly increasing within a jar")
    func creationOrder() {
        let j = jar(["a=1", "b=2", "c=3"])
        let creations = j.cookies.map(\.creation)
        #expect(creations == creations.sorted())
        #expect(Set(creations).count == 3)
        #expect(creations.first == t0)
        // A restored jar continues after the latest creation it holds.
        var restored = CookieJar(cookies: j.cookies.reversed())
        #expect(restored.cookies.map(\.name) == ["a", "b", "c"])
        restored.receive(setCookie: "d=4", from: url("http://www.example.com/"), now: t0)
        #expect(restored.cookies.last!.creation > creations.last!)
    }
}
