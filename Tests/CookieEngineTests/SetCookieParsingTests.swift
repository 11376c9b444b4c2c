import Testing

@testable import CookieEngine

@Suite("Set-Cookie parsing (§5.6)")
struct SetCookieParsingTests {
    @Test("name and value: trimming, '=' in values, quotes kept")
    func nameValue() {
        let j = jar(["  a  =  b c  ", "q=\"x y\"", "e=a=b==", "empty="])
        let pairs = j.cookies.map { [$0.name, $0.value] }
        #expect(pairs == [["a", "b c"], ["q", "\"x y\""], ["e", "a=b=="], ["empty", ""]])
    }

    @Test("nameless cookies (RFC 6265bis)")
    func nameless() {
        var j = jar(["=foo"])
        #expect(j.cookies.map { [$0.name, $0.value] } == [["", "foo"]])
        #expect(header(&j, "http://www.example.com/") == "foo")
        j = jar(["bar; Path=/"])
        #expect(j.cookies.map { [$0.name, $0.value] } == [["", "bar"]])
        // A second nameless cookie replaces the first (same key) and keeps its creation time.
        j = jar(["one", "a=1"])
        j.receive(setCookie: "two", from: url("http://www.example.com/"), now: t0.plus(5))
        #expect(header(&j, "http://www.example.com/") == "two; a=1")
        // Empty name and value: ignored.
        #expect(rejection(outcome("=")) == .emptyNameAndValue)
        #expect(rejection(outcome("; Path=/")) == .emptyNameAndValue)
        #expect(rejection(outcome("  =  ")) == .emptyNameAndValue)
        // A nameless cookie may not smuggle a prefixed name.
        #expect(rejection(outcome("=__Secure-x=1", from: "https://www.example.com/")) == .namelessWithPrefix)
        #expect(rejection(outcome("__HOST-x=1")) != .namelessWithPrefix)  // has a name
        #expect(rejection(outcome("__host-x", from: "https://www.example.com/")) == .namelessWithPrefix)
    }

    @Test("name plus value limited to 4096 octets")
    func nameValueLimit() {
        let ok = "n=" + String(repeating: "v", count: 4095)  // 1 + 4095
        let tooBig = "n=" + String(repeating: "v", count: 4096)  // 1 + 4096
        #expect(storedCookie(outcome(ok))?.value.utf8.count == 4095)
        #expect(rejection(outcome(tooBig)) == .tooLarge)
        // Counted in octets, not characters.
        let wide = "n=" + String(repeating: "春", count: 1366)  // 1 + 4098 octets
        #expect(rejection(outcome(wide)) == .tooLarge)
        // Configurable.
        let small = CookiePolicy(limits: CookieLimits(maxNameValueBytes: 8))
        #expect(storedCookie(outcome("abc=12345", policy: small)) != nil)
        #expect(rejection(outcome("abc=123456", policy: small)) == .tooLarge)
    }

    @Test("attribute values over 1024 octets are ignored, not the cookie")
    func attributeLimit() {
        let longPath = "/" + String(repeating: "p", count: 1023)  // 1024 octets
        let tooLongPath = "/" + String(repeating: "p", count: 1024)  // 1025 octets
        #expect(storedCookie(outcome("a=1; Path=" + longPath))?.path == longPath)
        #expect(storedCookie(outcome("a=1; Path=/kept; Path=" + tooLongPath, from: "http://www.example.com/x/y"))?.path == "/kept")
        #expect(storedCookie(outcome("a=1; Path=" + tooLongPath, from: "http://www.example.com/x/y"))?.path == "/x")
        let longDomain = String(repeating: "a.", count: 520) + "example.com"
        let c = storedCookie(outcome("a=1; Domain=" + longDomain))
        #expect(c?.hostOnly == true && c?.domain == "www.example.com")
        // Even Secure is ignored when its (meaningless) value is too long.
        #expect(storedCookie(outcome("a=1; Secure=" + String(repeating: "x", count: 1025)))?.secure == false)
    }

    static let withControls: [String] = [
        "a=b\u{00}c", "a=b\u{01}", "a\u{08}=b", "a=b\u{0A}c", "a=b\u{0D}", "a=\u{1F}", "a=b\u{7F}",
        "a=b; Path=/\u{00}", "a=b; \u{0B}Secure",
    ]

    @Test("control characters other than tab ignore the cookie", arguments: withControls)
    func controlCharacters(_ setCookie: String) {
        #expect(rejection(outcome(setCookie)) == .controlCharacter)
    }

    @Test("tab is allowed")
    func tabAllowed() {
        #expect(storedCookie(outcome("a=b\tc"))?.value == "b\tc")
        #expect(storedCookie(outcome("\ta\t=\tb\t;\tPath\t=\t/x\t"))?.path == "/x")
    }

    @Test("attribute names are case-insensitive; unknown attributes ignored")
    func attributeNames() throws {
        let c = try #require(storedCookie(outcome(
            "a=1; pAtH=/p; MAX-age=60; hTTpOnLy; sEcUrE; SAMESITE=lax; Foo=bar; Version=1; Comment",
            from: "https://www.example.com/")))
        #expect(c.path == "/p" && c.secure && c.httpOnly && c.sameSite == .lax && c.expiry == t0.plus(60))
        #expect(storedCookie(outcome("a=1; \"Secure\""))?.secure == false)
        #expect(storedCookie(outcome("a=1; Secure qux"))?.secure == false)
        #expect(storedCookie(outcome("a=1; HttpOnly=no"))?.httpOnly == true)
    }

    @Test("Max-Age wins over Expires, whatever the order; both capped at 400 days")
    func expiry() throws {
        let cap = t0.plus(400 * 86_400)
        #expect(storedCookie(outcome("a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"))?.expiry == t0.plus(60))
        #expect(storedCookie(outcome("a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60"))?.expiry == t0.plus(60))
        #expect(storedCookie(outcome("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"))?.expiry == CookieDate.parse("Wed, 21 Oct 2026 07:28:00 GMT"))
        #expect(storedCookie(outcome("a=1; Max-Age=999999999"))?.expiry == cap)
        #expect(storedCookie(outcome("a=1; Max-Age=99999999999999999999999"))?.expiry == cap)
        #expect(storedCookie(outcome("a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"))?.expiry == cap)
        #expect(storedCookie(outcome("a=1; Max-Age=34560000"))?.expiry == cap)  // exactly 400 days
        #expect(storedCookie(outcome("a=1; Max-Age=34559999"))?.expiry == t0.plus(34_559_999))
        // Invalid values are ignored: a session cookie.
        for bad in ["Max-Age=", "Max-Age=1.5", "Max-Age=+5", "Max-Age=abc", "Max-Age=-", "Max-Age=5s", "Expires=tomorrow"] {
            let c = storedCookie(outcome("a=1; " + bad))
            #expect(c != nil && c?.expiry == nil, "\(bad)")
        }
        // The last valid one of each counts.
        #expect(storedCookie(outcome("a=1; Max-Age=60; Max-Age=bogus"))?.expiry == t0.plus(60))
        #expect(storedCookie(outcome("a=1; Max-Age=60; Max-Age=120"))?.expiry == t0.plus(120))
        #expect(storedCookie(outcome("a=1; Max-Age= 30 "))?.expiry == t0.plus(30))
        // A configurable cap.
        let week = CookiePolicy(limits: CookieLimits(maxAgeSeconds: 7 * 86_400))
        #expect(storedCookie(outcome("a=1; Max-Age=999999", policy: week))?.expiry == t0.plus(7 * 86_400))
    }

    @Test("SameSite values")
    func sameSite() {
        let https = "https://www.example.com/"
        #expect(storedCookie(outcome("a=1; SameSite=Strict"))?.sameSite == .strict)
        #expect(storedCookie(outcome("a=1; SameSite=LAX"))?.sameSite == .lax)
        #expect(storedCookie(outcome("a=1; SameSite=None; Secure", from: https))?.sameSite == .noRestriction)
        #expect(storedCookie(outcome("a=1; SameSite=bogus"))?.sameSite == .unspecified)
        #expect(storedCookie(outcome("a=1"))?.sameSite == .unspecified)
        #expect(storedCookie(outcome("a=1; SameSite=Lax; SameSite=Strict"))?.sameSite == .strict)
        #expect(storedCookie(outcome("a=1; SameSite=None; SameSite=Lax"))?.sameSite == .lax)
        // None requires Secure.
        #expect(rejection(outcome("a=1; SameSite=None", from: https)) == .sameSiteNoneWithoutSecure)
        #expect(rejection(outcome("a=1; SameSite=Lax; SameSite=None", from: https)) == .sameSiteNoneWithoutSecure)
    }
}
