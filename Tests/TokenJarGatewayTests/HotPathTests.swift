import CookieEngine
import NIOHTTP1
import Testing
import TokenJarStore

@testable import TokenJarGateway

@Suite("Hot path: header rules without copies, the session cache in place")
struct HotPathTests {
    @Test("the fixed hop-by-hop test agrees with the name set, in any letter case")
    func hopByHopNames() {
        for name in HopByHop.names {
            #expect(HopByHop.isFixed(name), "\(name)")
            #expect(HopByHop.isFixed(name.uppercased()), "\(name)")
            #expect(HopByHop.isFixed(String(name.prefix(1)).uppercased() + name.dropFirst()), "\(name)")
        }
        for name in ["host", "cookie", "set-cookie", "tee", "connectionx", "keep-alivE2", "x-upgrade", ""] {
            #expect(!HopByHop.isFixed(name), "\(name)")
        }
    }

    @Test("ASCII case folding touches letters only")
    func asciiCase() {
        #expect(ASCIICase.equal("Set-Cookie", "set-cookie"))
        #expect(ASCIICase.equal("X-SESSION-TOKEN", "x-session-token"))
        #expect(!ASCIICase.equal("set-cookie", "set-cookies"))
        #expect(!ASCIICase.equal("set_cookie", "set-cookie"))
        // '@' (0x40) and '[' (0x5B) sit next to the letters and must not fold onto '`' or '{'.
        #expect(!ASCIICase.equal("@", "`") && !ASCIICase.equal("[", "{"))
        #expect(!ASCIICase.equal("Ä", "ä"))
    }

    @Test("request headers: hop-by-hop, listed, token and forwarding headers go; cookies merge, jar first")
    func requestHeaders() {
        let client = HTTPHeaders([
            ("Host", "app.example"), ("CONNECTION", "keep-alive, X-Drop-Me"), ("Keep-Alive", "timeout=5"),
            ("x-drop-me", "1"), ("X-Session-Token", "secret"), ("X-WX-OpenID", "forged"),
            ("Cookie", "a=client; b=2"), ("X-Forwarded-For", "10.0.0.1"), ("x-forwarded-proto", "https"),
            ("Accept", "*/*"), ("TE", "trailers"),
        ])
        let ctx = ForwardingContext(
            tokenHeader: "x-session-token", identityHeaders: ["x-wx-openid"], clientAddress: "127.0.0.1",
            scheme: "http", host: "app.example", cookie: "a=jar", dropClientCookies: false, chunkedBody: false,
            identity: nil)
        let out = RequestRewriter.upstreamHeaders(from: client, ctx)
        #expect(out.map { $0.name } == ["Host", "Accept", "Cookie", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"])
        #expect(out["Cookie"] == ["a=jar; b=2"])
        #expect(out["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.1"])
        #expect(out["X-Forwarded-Proto"] == ["http"])
    }

    @Test("response headers: Set-Cookie fields in order, hop-by-hop and listed names removed")
    func responseHeaders() {
        var plain = HTTPHeaders([("Content-Length", "2"), ("set-cookie", "a=1"), ("Set-Cookie", "b=2")])
        #expect(ResponseRewriter.clientHeaders(from: &plain, passSetCookie: false) == ["a=1", "b=2"])
        #expect(plain.map { $0.name } == ["Content-Length"])

        var hop = HTTPHeaders([
            ("Connection", "keep-alive, X-Private"), ("X-Private", "p"), ("Keep-Alive", "timeout=5"),
            ("Set-Cookie", "c=3"), ("Content-Type", "text/plain"), ("transfer-encoding", "chunked"),
        ])
        #expect(ResponseRewriter.clientHeaders(from: &hop, passSetCookie: true) == ["c=3"])
        #expect(hop.map { $0.name } == ["Set-Cookie", "Content-Type"])

        // Listed names match in any letter case, before or after the Connection field, and may
        // name Set-Cookie (its values are still applied to the jar); values keep their order.
        var listed = HTTPHeaders([
            ("x-early", "1"), ("Server", "nginx"), ("CONNECTION", " X-Early ,x-LATE,, set-COOKIE "),
            ("Set-Cookie", "d=4"), ("Vary", "a"), ("X-Late", "2"), ("Vary", "b"), ("X-Later", "3"),
        ])
        #expect(ResponseRewriter.clientHeaders(from: &listed, passSetCookie: true) == ["d=4"])
        #expect(listed.map { "\($0.name)=\($0.value)" } == ["Server=nginx", "Vary=a", "Vary=b", "X-Later=3"])

        // Nothing to remove: the block is left as it is.
        var clean = HTTPHeaders([("Set-Cookie", "e=5"), ("Content-Type", "text/plain")])
        #expect(ResponseRewriter.clientHeaders(from: &clean, passSetCookie: true) == ["e=5"])
        #expect(clean.map { $0.name } == ["Set-Cookie", "Content-Type"])
    }

    @Test("the Host header without its port: names, IPv4, bracketed IPv6, non-ASCII names")
    func hostWithoutPort() {
        let cases: [(String, String)] = [
            ("api.example.com", "api.example.com"), ("api.example.com:8080", "api.example.com"),
            ("127.0.0.1:80", "127.0.0.1"), ("[::1]:8443", "[::1]"), ("[::1]", "[::1]"), ("[::1", "[::1"),
            ("", ""), (":81", ""), ("caf\u{E9}.example:81", "caf\u{E9}.example"), ("e\u{301}:1", "e\u{301}"),
        ]
        for (header, host) in cases {
            #expect(ProxyHandler.hostWithoutPort(header) == host[...], "\(header.debugDescription)")
        }
    }

    @Test("case folding on both sides matches letters only, at equal lengths")
    func foldingBothSides() {
        #expect(ASCIICase.equalFolding("X-Private", "x-PRIVATE"[...]))
        #expect(!ASCIICase.equalFolding("X-Private", "x-privat"[...]))
        #expect(!ASCIICase.equalFolding("a-b", "a_b"[...]))
        // '@' and '`' sit next to the letters; folding must not make them equal to anything else.
        #expect(!ASCIICase.equalFolding("@", "`"[...]))
        #expect(!ASCIICase.equalFolding("[", "{"[...]))
        #expect(ASCIICase.equal("X-Session-Token", "x-session-token"))
        #expect(!ASCIICase.equal("X-Session-Tokem", "x-session-token"))
        #expect(!ASCIICase.equal("[", "{"))
    }

    private func state(_ jar: CookieJar = CookieJar()) -> SessionState {
        SessionState(createdAt: 1, lastSeenAt: 1, expiresAt: 100, identity: nil, jar: jar)
    }

    private func hash(_ i: UInt8) -> TokenHash { TokenHash(bytes: [i] + Array(repeating: 7, count: 31))! }

    @Test("the session cache keeps changes made in place, removes on nil, and stays bounded")
    func sessionCache() throws {
        let cache = SessionCache(capacity: 64, shardCount: 4)
        let url = CookieURL(isSecure: false, host: "app.example", path: "/")
        let now = CookieTime(microsecondsSinceEpoch: 1_700_000_000_000_000)
        cache.withSession(hash(1)) { $0 = state() }
        let changes = cache.withSession(hash(1)) { state in
            state!.jar.receive(setCookie: ["sid=1; Path=/"], from: url, now: now)
        }
        #expect(changes.upserted.map(\.value) == ["1"])
        var snapshot = try #require(cache.withSession(hash(1)) { $0 })
        // A copy taken out stays as it was when the cache's jar changes afterwards.
        cache.withSession(hash(1)) { state in _ = state!.jar.receive(setCookie: ["sid=2"], from: url, now: now) }
        #expect(snapshot.jar.cookieHeader(for: url, now: now) == "sid=1")
        #expect(cache.withSession(hash(1)) { $0?.jar.cookieHeader(for: url, now: now) } == "sid=2")
        cache.withSession(hash(1)) { $0 = nil }
        #expect(cache.withSession(hash(1)) { $0 == nil })
        #expect(cache.count == 0)
        for i in 0..<200 { cache.withSession(TokenHash(bytes: (0..<32).map { UInt8(truncatingIfNeeded: i &* ($0 + 1)) })!) { $0 = state() } }
        #expect(cache.count <= 64)
    }
}

@Suite("Jar changes as store writes")
struct StoreChangesTests {
    @Test("a rotated cookie under the 400-day cap keeps its sweep time; the payload carries the exact expiry")
    func rotatedCookieKeepsSweepTime() throws {
        var jar = CookieJar()
        let url = try #require(CookieURL(string: "http://example.com/"))
        let base: Int64 = 1_800_000_000 - 1_800_000_000 % 3_600
        let field = "sid=%@; Expires=Fri, 31 Dec 2100 23:59:59 GMT; Path=/"
        var sweepTimes = Set<Int64>()
        for (i, second) in [Int64(1), 2, 600, 3_599].enumerated() {
            let now = CookieTime(unixSeconds: base + second)
            let changes = jar.receive(setCookie: field.replacingOccurrences(of: "%@", with: "v\(i)"), from: url, now: now)
            let writes = SessionManager.storeChanges(changes)
            #expect(writes.count == 1)
            guard case .upsert(let record) = writes.first else { Issue.record("not an upsert"); continue }
            let stored = try CookieCodec.decode(record.payload)
            let expiry = try #require(stored.expiry?.unixSeconds)
            #expect(expiry == base + second + 400 * 86_400)
            #expect(record.expiresAt.map { $0 >= expiry && $0 - expiry < 3_600 } == true)
            sweepTimes.insert(record.expiresAt!)
        }
        #expect(sweepTimes.count == 1)
        // A session cookie has no sweep time.
        let session = SessionManager.storeChanges(jar.receive(setCookie: "pref=dark", from: url, now: CookieTime(unixSeconds: base)))
        guard case .upsert(let record) = session.first else { Issue.record("not an upsert"); return }
        #expect(record.expiresAt == nil)
    }
}
