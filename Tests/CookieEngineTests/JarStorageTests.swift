import Testing

@testable import CookieEngine

@Suite("Storage model (§5.7) and Cookie header (§5.8.3)")
struct JarStorageTests {
    let site = url("http://www.example.com/")
    let secureSite = url("https://www.example.com/")

    @Test("replacement keeps the creation time and reports the new state")
    func replacement() throws {
        var j = CookieJar()
        let first = j.receive(setCookie: "a=1; Max-Age=60", from: site, now: t0)
        #expect(first.upserted.map(\.value) == ["1"] && first.removed.isEmpty)
        j.receive(setCookie: "b=2", from: site, now: t0.plus(1))
        let second = j.receive(setCookie: "a=3; HttpOnly", from: site, now: t0.plus(10))
        let a = try #require(second.upserted.first)
        #expect(second.upserted.count == 1 && second.removed.isEmpty)
        #expect(a.value == "3" && a.creation == t0 && a.lastAccess == t0.plus(10))
        #expect(a.expiry == nil && a.httpOnly)  // every attribute comes from the new cookie
        #expect(j.count == 2)
        #expect(j.cookieHeader(for: site, now: t0.plus(11)) == "a=3; b=2")
        // A different path is a different cookie.
        j.receive(setCookie: "a=4; Path=/x", from: site, now: t0.plus(12))
        #expect(j.count == 3)
    }

    @Test("resending an unchanged cookie refreshes its last access and reports no change to store")
    func unchangedResend() throws {
        var j = CookieJar()
        let first = j.receive(setCookie: "pref=dark; Path=/; HttpOnly", from: site, now: t0)
        #expect(first.upserted.map(\.value) == ["dark"])
        let again = j.receive(setCookie: "pref=dark; Path=/; HttpOnly", from: site, now: t0.plus(5))
        #expect(again.isEmpty)
        let stored = try #require(j.cookies.first)
        #expect(stored.lastAccess == t0.plus(5) && stored.creation == t0)
        // Any difference besides the last access is a change: value, attributes, expiry.
        for changed in ["pref=light; Path=/; HttpOnly", "pref=dark; Path=/", "pref=dark; Path=/; HttpOnly; Max-Age=60",
                        "pref=dark; Path=/; HttpOnly; SameSite=Strict"] {
            var k = j
            #expect(k.receive(setCookie: changed, from: site, now: t0.plus(9)).upserted.count == 1, "\(changed)")
        }
    }

    @Test("deletion through Max-Age <= 0 or a past Expires")
    func deletion() {
        for deleter in ["a=; Max-Age=0", "a=x; Max-Age=-1", "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                        "a=; Expires=Wed, 31 Dec 2025 23:59:59 GMT", "a=; Max-Age=0; Expires=Fri, 31 Dec 9999 23:59:59 GMT"] {
            var j = jar(["a=1", "b=2"])
            let changes = j.receive(setCookie: deleter, from: site, now: t0.plus(1))
            #expect(changes.removed == [CookieKey(name: "a", domain: "www.example.com", path: "/")], "\(deleter)")
            #expect(changes.upserted.isEmpty)
            #expect(j.cookies.map(\.name) == ["b"])
        }
        // Only the exact key is deleted.
        var j = jar(["a=1", "a=2; Path=/x", "a=3; Domain=example.com"])
        let changes = j.receive(setCookie: "a=; Max-Age=0; Path=/x", from: site, now: t0)
        #expect(changes.removed == [CookieKey(name: "a", domain: "www.example.com", path: "/x")])
        #expect(j.count == 2)
        // Deleting what is not there changes nothing.
        var empty = CookieJar()
        #expect(empty.receive(setCookie: "zz=; Max-Age=0", from: site, now: t0).isEmpty)
        if case .deleted(_, let existed) = outcome("zz=; Max-Age=0") { #expect(!existed) } else { Issue.record("not a deletion") }
    }

    @Test("expiry: not sent once expired, dropped and reported")
    func expiry() {
        var j = jar(["a=1; Max-Age=60", "b=2"])
        #expect(header(&j, "http://www.example.com/", now: t0.plus(59)) == "a=1; b=2")
        var removed: [CookieKey] = []
        #expect(j.cookieHeader(for: site, now: t0.plus(60), removed: &removed) == "b=2")
        #expect(removed.map(\.name) == ["a"])
        #expect(j.count == 1)
        j = jar(["a=1; Max-Age=60", "b=2; Max-Age=120", "c=3"])
        #expect(j.removeExpired(now: t0.plus(30)).isEmpty)
        #expect(j.removeExpired(now: t0.plus(120)).map(\.name).sorted() == ["a", "b"])
        #expect(j.cookies.map(\.name) == ["c"])
        // A response reports the expirations it noticed.
        j = jar(["a=1; Max-Age=60"])
        let changes = j.receive(setCookie: "b=2", from: site, now: t0.plus(61))
        #expect(changes.removed.map(\.name) == ["a"] && changes.upserted.map(\.name) == ["b"])
        // cookies(for:now:) looks without touching.
        j = jar(["a=1; Max-Age=60", "b=2"])
        #expect(j.cookies(for: site, now: t0.plus(61)).map(\.name) == ["b"])
        #expect(j.count == 2)
    }

    @Test("sending updates the last-access time of the cookies sent")
    func lastAccess() {
        var j = jar(["a=1; Path=/a", "b=2; Path=/b"])
        _ = j.cookieHeader(for: url("http://www.example.com/a"), now: t0.plus(100))
        let access = Dictionary(uniqueKeysWithValues: j.cookies.map { ($0.name, $0.lastAccess) })
        #expect(access["a"] == t0.plus(100) && access["b"] == t0)
        #expect(j.cookieHeader(for: url("http://www.example.com/c"), now: t0) == nil)
    }

    @Test("Secure: refused from insecure origins, sent only to secure ones")
    func secure() {
        #expect(rejection(outcome("s=1; Secure")) == .secureFromInsecureOrigin)
        var j = CookieJar()
        j.receive(setCookie: ["s=1; Secure", "p=2"], from: secureSite, now: t0)
        #expect(j.cookieHeader(for: secureSite, now: t0) == "s=1; p=2")
        #expect(j.cookieHeader(for: site, now: t0) == "p=2")
        #expect(j.cookieHeader(for: url("wss://www.example.com/"), now: t0) == "s=1; p=2")
    }

    @Test("loopback hosts count as secure unless the policy says otherwise")
    func loopback() {
        var j = CookieJar()
        j.receive(setCookie: "s=1; Secure", from: url("http://localhost:8080/"), now: t0)
        #expect(j.cookieHeader(for: url("http://localhost:3000/"), now: t0) == "s=1")
        j.receive(setCookie: "s=1; Secure", from: url("http://127.0.0.1/"), now: t0)
        #expect(j.cookieHeader(for: url("http://127.0.0.1/"), now: t0) == "s=1")
        let strict = CookiePolicy(treatsLoopbackAsSecure: false)
        #expect(rejection(outcome("s=1; Secure", from: "http://localhost/", policy: strict)) == .secureFromInsecureOrigin)
        var k = CookieJar(policy: strict)
        k.receive(setCookie: "s=1; Secure", from: url("https://localhost/"), now: t0)
        #expect(k.cookieHeader(for: url("http://localhost/"), now: t0) == nil)
        #expect(k.cookieHeader(for: url("https://localhost/"), now: t0) == "s=1")
    }

    @Test("leave Secure cookies alone: no overwriting or shadowing from insecure origins")
    func leaveSecureAlone() {
        var j = CookieJar()
        j.receive(setCookie: ["sid=secret; Secure; Path=/", "other=1; Secure"], from: secureSite, now: t0)
        #expect(rejection(outcome("sid=evil", from: "http://www.example.com/", into: &j)) == .secureCookieShadowing)
        #expect(rejection(outcome("sid=evil; Path=/admin", from: "http://www.example.com/", into: &j)) == .secureCookieShadowing)
        #expect(rejection(outcome("sid=evil; Domain=example.com", from: "http://www.example.com/", into: &j)) == .secureCookieShadowing)
        #expect(rejection(outcome("sid=evil", from: "http://sub.www.example.com/", into: &j)) == .secureCookieShadowing)
        #expect(rejection(outcome("sid=; Max-Age=0", from: "http://www.example.com/", into: &j)) == .secureCookieShadowing)
        // Other names, and unrelated hosts, are fine.
        #expect(storedCookie(outcome("lang=en", from: "http://www.example.com/", into: &j)) != nil)
        #expect(storedCookie(outcome("sid=x", from: "http://other.example.com/", into: &j)) != nil)
        #expect(j.cookieHeader(for: secureSite, now: t0) == "sid=secret; other=1; lang=en")
        // From a secure origin a non-secure cookie may replace it.
        #expect({ if case .replaced(let c) = outcome("sid=plain", from: "https://www.example.com/", into: &j) { !c.secure } else { false } }())
    }

    @Test("cookie prefixes (case-insensitive)")
    func prefixes() {
        let https = "https://www.example.com/"
        #expect(storedCookie(outcome("__Secure-a=1; Secure", from: https)) != nil)
        #expect(rejection(outcome("__Secure-a=1", from: https)) == .securePrefix)
        #expect(rejection(outcome("__SECURE-a=1", from: https)) == .securePrefix)
        #expect(rejection(outcome("__Secure-a=1; Secure")) == .secureFromInsecureOrigin)
        #expect(storedCookie(outcome("__Host-a=1; Secure; Path=/", from: https))?.hostOnly == true)
        #expect(rejection(outcome("__Host-a=1; Secure", from: https)) == .hostPrefix)  // no Path attribute
        #expect(rejection(outcome("__Host-a=1; Secure; Path=/x", from: https)) == .hostPrefix)
        #expect(rejection(outcome("__Host-a=1; Path=/", from: https)) == .hostPrefix)
        #expect(rejection(outcome("__Host-a=1; Secure; Path=/; Domain=example.com", from: https)) == .hostPrefix)
        #expect(rejection(outcome("__host-a=1; Path=/", from: https)) == .hostPrefix)
        // Domain equal to a public-suffix host leaves it host-only, which __Host- accepts.
        #expect(storedCookie(outcome("__Host-a=1; Secure; Path=/; Domain=localhost", from: "https://localhost/")) != nil)
        // Not a prefix when not at the start.
        #expect(storedCookie(outcome("x__Host-a=1")) != nil)
    }

    @Test("eviction: beyond 50 per domain, least recently used first")
    func evictPerDomain() throws {
        #expect(CookieLimits.default == CookieLimits(maxCookiesPerDomain: 50, maxCookiesPerJar: 3000,
                                                     maxNameValueBytes: 4096, maxAttributeValueBytes: 1024,
                                                     maxAgeSeconds: 34_560_000))
        var j = CookieJar()
        j.receive(setCookie: "c0=x; Path=/keep", from: site, now: t0)
        for i in 1..<50 { j.receive(setCookie: "c\(i)=x; Path=/other", from: site, now: t0.plus(Int64(i))) }
        j.receive(setCookie: "o=1", from: url("http://other.example.com/"), now: t0.plus(60))
        #expect(j.count == 51)
        // Touch c0, making c1 the least recently used.
        #expect(j.cookieHeader(for: url("http://www.example.com/keep"), now: t0.plus(100)) == "c0=x")
        let changes = j.receive(setCookie: "c50=x", from: site, now: t0.plus(101))
        #expect(changes.removed == [CookieKey(name: "c1", domain: "www.example.com", path: "/other")])
        #expect(changes.upserted.map(\.name) == ["c50"])
        #expect(j.count == 51)
        #expect(j.cookies.filter { $0.domain == "www.example.com" }.count == 50)
        #expect(j.cookies.contains { $0.name == "c0" } && j.cookies.contains { $0.name == "o" })
    }

    @Test("eviction removes expired cookies first")
    func evictExpiredFirst() {
        let policy = CookiePolicy(limits: CookieLimits(maxCookiesPerDomain: 3, maxCookiesPerJar: 100))
        var j = CookieJar(policy: policy)
        j.receive(setCookie: ["a=1", "b=2; Max-Age=10", "c=3"], from: site, now: t0)
        // At t0+10 b has expired but is still in the jar (nothing has looked yet)...
        #expect(j.count == 3)
        // ...and receiving is the first to look: b goes, nothing else does.
        let changes = j.receive(setCookie: "d=4", from: site, now: t0.plus(10))
        #expect(changes.removed.map(\.name) == ["b"])
        #expect(j.cookies.map(\.name) == ["a", "c", "d"])
    }

    @Test("eviction within a domain takes non-Secure cookies before Secure ones")
    func evictNonSecureFirst() {
        let policy = CookiePolicy(limits: CookieLimits(maxCookiesPerDomain: 3, maxCookiesPerJar: 100))
        var j = CookieJar(policy: policy)
        j.receive(setCookie: "s1=x; Secure", from: secureSite, now: t0)
        j.receive(setCookie: "p1=x", from: secureSite, now: t0.plus(1))
        j.receive(setCookie: "p2=x", from: secureSite, now: t0.plus(2))
        var changes = j.receive(setCookie: "p3=x", from: secureSite, now: t0.plus(3))
        #expect(changes.removed.map(\.name) == ["p1"])
        // With only Secure cookies left to choose from, the least recently used of them goes.
        j.receive(setCookie: ["s2=x; Secure", "s3=x; Secure"], from: secureSite, now: t0.plus(4))
        changes = j.receive(setCookie: "s4=x; Secure", from: secureSite, now: t0.plus(5))
        #expect(changes.removed.map(\.name) == ["s1"])
        #expect(j.cookies.map(\.name).sorted() == ["s2", "s3", "s4"])
    }

    @Test("eviction: beyond the per-jar limit, least recently used first")
    func evictPerJar() {
        let policy = CookiePolicy(limits: CookieLimits(maxCookiesPerDomain: 10, maxCookiesPerJar: 5))
        var j = CookieJar(policy: policy)
        for i in 0..<5 { j.receive(setCookie: "c\(i)=x", from: url("http://h\(i).example.com/"), now: t0.plus(Int64(i))) }
        _ = j.cookieHeader(for: url("http://h0.example.com/"), now: t0.plus(50))
        let changes = j.receive(setCookie: "c5=x", from: url("http://h5.example.com/"), now: t0.plus(60))
        #expect(changes.removed.map(\.name) == ["c1"])
        #expect(j.cookies.map(\.name).sorted() == ["c0", "c2", "c3", "c4", "c5"])
        // A newcomer that is itself the least recently used is never the victim: ties go to
        // the earlier creation.
        let again = j.receive(setCookie: "c6=x", from: url("http://h6.example.com/"), now: t0.plus(50))
        #expect(again.removed.map(\.name) == ["c2"])
    }

    @Test("eviction at the default 3000-cookie jar limit")
    func evictDefaultJarLimit() {
        var j = CookieJar()
        var now = t0
        var setCookies: [String] = []
        for d in 0..<60 {
            setCookies = (0..<50).map { "c\($0)=x" }
            j.receive(setCookie: setCookies, from: url("http://d\(d).example.com/"), now: now)
            now = now.plus(1)
        }
        #expect(j.count == 3000)
        let changes = j.receive(setCookie: "new=1", from: url("http://d60.example.com/"), now: now)
        #expect(j.count == 3000)
        #expect(changes.removed == [CookieKey(name: "c0", domain: "d0.example.com", path: "/")])
    }

    @Test("changes of one response are net changes")
    func netChanges() {
        var j = jar(["a=1"])
        // Set and delete an existing cookie in one response: only the removal.
        var changes = j.receive(setCookie: ["a=2", "a=; Max-Age=0"], from: site, now: t0.plus(1))
        #expect(changes.upserted.isEmpty && changes.removed.map(\.name) == ["a"])
        // Delete and set again: only the upsert.
        j = jar(["a=1"])
        changes = j.receive(setCookie: ["a=; Max-Age=0", "a=3"], from: site, now: t0.plus(1))
        #expect(changes.removed.isEmpty && changes.upserted.map(\.value) == ["3"])
        // Two writes of one cookie: its final state once.
        changes = j.receive(setCookie: ["a=4", "a=5"], from: site, now: t0.plus(2))
        #expect(changes.upserted.map(\.value) == ["5"])
        // An ignored cookie changes nothing.
        #expect(j.receive(setCookie: "s=1; Secure", from: site, now: t0.plus(3)).isEmpty)
        // formUnion merges later changes.
        var merged = JarChanges(upserted: [Cookie(name: "x", value: "1", domain: "d", creation: t0)])
        merged.formUnion(JarChanges(removed: [CookieKey(name: "x", domain: "d", path: "/")]))
        #expect(merged.upserted.isEmpty && merged.removed.count == 1)
    }

    /// A store that only ever applies the reported changes ends up holding what the jar holds.
    @Test("applying reported changes reproduces the jar", arguments: [1, 2, 3, 4, 5])
    func changesReproduceJar(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let policy = CookiePolicy(limits: CookieLimits(maxCookiesPerDomain: 6, maxCookiesPerJar: 10))
        var j = CookieJar(policy: policy)
        var store: [CookieKey: Cookie] = [:]
        var now = t0
        let hosts = ["http://a.example.com/x/y", "https://a.example.com/", "http://b.example.com/", "http://example.com/x"]
        let attributes = ["", "; Path=/", "; Path=/x", "; Max-Age=0", "; Max-Age=5", "; Domain=example.com", "; Secure", "; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
        for _ in 0..<400 {
            now = now.plus(Int64(rng.next() % 3))
            let host = url(hosts[Int(rng.next() % UInt64(hosts.count))])
            if rng.next() % 4 == 0 {
                var removed: [CookieKey] = []
                _ = j.cookieHeader(for: host, now: now, removed: &removed)
                for k in removed { store[k] = nil }
                continue
            }
            let lines = (0..<Int(rng.next() % 3 + 1)).map { _ in
                "n\(rng.next() % 8)=v\(rng.next() % 100)" + attributes[Int(rng.next() % UInt64(attributes.count))]
            }
            let folded = rng.next() % 2 == 0 ? [lines.joined(separator: ", ")] : lines
            let changes = j.receive(setCookie: folded, from: host, now: now)
            for k in changes.removed { store[k] = nil }
            for c in changes.upserted { store[c.key] = c }
            #expect(j.count <= 10)
        }
        func essence(_ c: Cookie) -> String { "\(c.key) \(c.value) \(c.creation) \(String(describing: c.expiry)) \(c.secure)" }
        #expect(Set(store.values.map(essence)) == Set(j.cookies.map(essence)))
    }

    @Test("restoring a jar from stored cookies")
    func restore() {
        let original = jar(["a=1; Path=/", "b=2; Path=/deep/er", "c=3; Max-Age=60", "d=4; Path=/deep"])
        var restored = CookieJar(cookies: original.cookies.shuffled() + [original.cookies[0]])
        #expect(restored.cookies == original.cookies)
        #expect(restored.cookieHeader(for: url("http://www.example.com/deep/er"), now: t0) == "b=2; d=4; a=1; c=3")
        #expect(restored.removeExpired(now: t0.plus(60)).map(\.name) == ["c"])
        #expect(restored.remove(CookieKey(name: "a", domain: "www.example.com", path: "/"))?.value == "1")
        #expect(restored.removeAll().count == 2)
        #expect(restored.isEmpty)
    }

    @Test("restoring keeps the last of several cookies with one key, in small and large jars", arguments: [0, 30])
    func restoreDuplicates(extra: Int) {
        let a1 = jar(["a=1"]).cookies[0], a2 = jar(["a=2"]).cookies[0], a3 = jar(["a=3"]).cookies[0]
        let b = jar(["b=1; Path=/b"]).cookies[0]
        let others = (0..<extra).map { jar(["x\($0)=v"]).cookies[0] }
        let restored = CookieJar(cookies: [a1, b, a2] + others + [a3, b])
        #expect(restored.count == 2 + extra)
        #expect(restored.cookies.filter { $0.name == "a" }.map(\.value) == ["3"])
        #expect(restored.cookies.filter { $0.name == "b" }.count == 1)
        #expect(restored.cookies.first?.name == "b", "longer paths first")
    }
}

/// A small deterministic generator for the randomized tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
