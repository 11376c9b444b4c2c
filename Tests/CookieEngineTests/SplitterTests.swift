import Testing

@testable import CookieEngine

@Suite("Folded Set-Cookie values and Cookie request headers")
struct SplitterTests {
    static let cases: [(String, [String])] = [
        // JSON-looking values.
        ("a={\"x\":1,\"y\":2}", ["a={\"x\":1,\"y\":2}"]),
        ("a={\"x\":1,\"y\":2}, b=3", ["a={\"x\":1,\"y\":2}", "b=3"]),
        ("a={\"x\":1, \"y\":[1,2]}; Path=/, b=3", ["a={\"x\":1, \"y\":[1,2]}; Path=/", "b=3"]),
        ("a=[1,2,3], b=[4]", ["a=[1,2,3]", "b=[4]"]),
        // Dates, in every case and with full weekday names.
        ("a=1; expires=thu, 01 jan 2037 00:00:00 gmt, b=2", ["a=1; expires=thu, 01 jan 2037 00:00:00 gmt", "b=2"]),
        ("a=1; Expires=Thursday, 01-Jan-70 00:00:01 GMT, b=2", ["a=1; Expires=Thursday, 01-Jan-70 00:00:01 GMT", "b=2"]),
        ("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT",
         ["a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/", "b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT"]),
        ("a=1; Expires=WEDNESDAY,21-OCT-26 07:28:00 GMT,b=2", ["a=1; Expires=WEDNESDAY,21-OCT-26 07:28:00 GMT", "b=2"]),
        // Base64 padding and '=' in values.
        ("t=YWJj==, u=ZGVm==, v=x", ["t=YWJj==", "u=ZGVm==", "v=x"]),
        ("a=,b=2", ["a=", "b=2"]),
        // Quotes: protected only when closed before ';' or the end.
        ("a=\"x, y=z\", b=2", ["a=\"x, y=z\"", "b=2"]),
        ("a=\"x;y\", b=2", ["a=\"x;y\"", "b=2"]),
        ("a=\"unclosed, b=2; Path=/", ["a=\"unclosed", "b=2; Path=/"]),
        // Commas that do not start a cookie.
        ("a=1; Max-Age=50,399", ["a=1; Max-Age=50,399"]),
        ("a=1, =2", ["a=1, =2"]),
        ("a=1, b c=2", ["a=1, b c=2"]),
        ("a=1; Path=/a,/b", ["a=1; Path=/a,/b"]),
        // Empty elements and whitespace.
        (",,a=1,,\tb=2,,", ["a=1", "b=2"]),
        ("", []),
        ("  , ", []),
        ("foo, b=2", ["foo", "b=2"]),
        // Not folded at all.
        ("a=1;b=2;Path=/", ["a=1;b=2;Path=/"]),
        ("  sid=abc  ", ["sid=abc"]),
    ]

    @Test("splitting", arguments: cases)
    func split(_ joined: String, _ expected: [String]) {
        #expect(SetCookieSplitter.split(joined) == expected)
        if expected.count > 1 { #expect(SetCookieSplitter.isFolded(joined)) }
    }

    @Test("isFolded")
    func isFolded() {
        #expect(SetCookieSplitter.isFolded("a=1, b=2"))
        #expect(SetCookieSplitter.isFolded("a=1,"))
        #expect(!SetCookieSplitter.isFolded("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"))
        #expect(!SetCookieSplitter.isFolded("a=\"x, b=2\""))
        #expect(!SetCookieSplitter.isFolded(""))
    }

    @Test("the jar splits what it receives, unless told not to")
    func jarSplits() {
        let folded = "a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT, b={\"x\":1,\"y\":2}; Path=/"
        var j = jar([folded])
        #expect(header(&j, "http://www.example.com/") == "a=1; b={\"x\":1,\"y\":2}")
        #expect(j.cookies.first?.expiry == CookieDate.parse("Wed, 21 Oct 2026 07:28:00 GMT"))
        var k = jar([folded], policy: rfcPolicy)
        #expect(header(&k, "http://www.example.com/") == "a=1")
    }

    static let headerCases: [(String, [[String]])] = [
        ("a=1; b=2", [["a", "1"], ["b", "2"]]),
        ("a=1;b=2", [["a", "1"], ["b", "2"]]),
        ("a=1, b=2", [["a", "1"], ["b", "2"]]),
        ("a=1,b=2; c=3", [["a", "1"], ["b", "2"], ["c", "3"]]),
        ("j={\"x\":1,\"y\":2}; k=3", [["j", "{\"x\":1,\"y\":2}"], ["k", "3"]]),
        ("  a = 1 ;; b=2 ; ", [["a", "1"], ["b", "2"]]),
        ("foo; a=1", [["", "foo"], ["a", "1"]]),
        ("t=YWJj==; u=x", [["t", "YWJj=="], ["u", "x"]]),
        ("=; =v", [["", "v"]]),
        ("", []),
    ]

    @Test("Cookie request headers", arguments: headerCases)
    func cookieHeaderPairs(_ value: String, _ expected: [[String]]) {
        #expect(CookieHeaderParser.pairs(in: value).map { [$0.name, $0.value] } == expected)
    }

    @Test("normalizing a client's Cookie header")
    func normalize() {
        #expect(CookieHeaderParser.normalize("a=1,b=2;c=3 ;  foo") == "a=1; b=2; c=3; foo")
    }

    @Test("the engine's own headers parse back")
    func roundTrip() {
        var j = jar(["a=1", "b={\"x\":1,\"y\":2}", "c=", "nameless"])
        let h = header(&j, "http://www.example.com/")!
        #expect(CookieHeaderParser.pairs(in: h).map { [$0.name, $0.value] }
            == j.cookies.map { [$0.name, $0.value] })
    }
}
