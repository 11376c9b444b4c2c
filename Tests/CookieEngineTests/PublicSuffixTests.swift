import Foundation
import Testing

@testable import CookieEngine

@Suite("Public suffix list")
struct PublicSuffixTests {
    static let list = PublicSuffixList.default

    @Test("the default list is the system one when present, else the bundled one")
    func defaultSource() throws {
        if FileManager.default.isReadableFile(atPath: PublicSuffixList.systemPath) {
            #expect(Self.list.source == PublicSuffixList.systemPath)
        } else {
            #expect(Self.list.source == "bundled")
        }
        #expect(Self.list.ruleCount > 5000)
        let bundled = try #require(PublicSuffixList.bundled)
        #expect(bundled.source == "bundled")
        #expect(bundled.ruleCount > 5000)
        #expect(bundled.isPublicSuffix("co.uk") && !bundled.isPublicSuffix("example.co.uk"))
    }

    static let publicSuffixes: [(String, Bool)] = [
        ("com", true), ("co.uk", true), ("uk", true), ("example.com", false), ("example.co.uk", false),
        ("www.example.co.uk", false),
        // PRIVATE section rules count too, as in browsers.
        ("github.io", true), ("user.github.io", false),
        // Wildcard and exception rules: *.ck and !www.ck; *.kawasaki.jp and !city.kawasaki.jp.
        ("ck", true), ("foo.ck", true), ("www.ck", false), ("a.foo.ck", false),
        ("x.kawasaki.jp", true), ("city.kawasaki.jp", false), ("kawasaki.jp", false),
        // Unlisted single labels are public suffixes by the implicit "*" rule.
        ("localhost", true), ("internal", true), ("backend.internal", false),
        // Internationalized rules, in both U-label and A-label form.
        ("公司.cn", true), ("xn--55qx5d.cn", true), ("example.xn--55qx5d.cn", false),
    ]

    @Test("isPublicSuffix on the real list", arguments: publicSuffixes)
    func realList(_ domain: String, _ expected: Bool) {
        #expect(Self.list.isPublicSuffix(domain) == expected)
    }

    @Test("publicSuffix(of:) and registrableDomain(of:)")
    func registrable() {
        #expect(Self.list.publicSuffix(of: "www.example.co.uk") == "co.uk")
        #expect(Self.list.registrableDomain(of: "www.example.co.uk") == "example.co.uk")
        #expect(Self.list.registrableDomain(of: "a.b.foo.ck") == "b.foo.ck")
        #expect(Self.list.publicSuffix(of: "www.ck") == "ck")
        #expect(Self.list.registrableDomain(of: "www.ck") == "www.ck")
        #expect(Self.list.registrableDomain(of: "co.uk") == nil)
        #expect(Self.list.publicSuffix(of: "host.unlisted") == "unlisted")
        #expect(Self.list.publicSuffix(of: "") == nil)
    }

    @Test("a list from text: comments, wildcards, exceptions, case")
    func customList() {
        let list = PublicSuffixList(text: """
            // ===BEGIN ICANN DOMAINS===
            com
            *.ck
            !www.ck
            Example.NET  trailing words are ignored

            // ===BEGIN PRIVATE DOMAINS===
            apps.example.com
            """)
        #expect(list.source == "text")
        #expect(list.isPublicSuffix("com"))
        #expect(list.isPublicSuffix("foo.ck") && !list.isPublicSuffix("www.ck"))
        #expect(list.isPublicSuffix("example.net"))
        #expect(list.isPublicSuffix("apps.example.com") && !list.isPublicSuffix("example.com"))
        #expect(list.registrableDomain(of: "a.b.apps.example.com") == "b.apps.example.com")
        #expect(!list.isPublicSuffix("co.uk"))  // not in this list
        #expect(PublicSuffixList(text: "").isPublicSuffix("anything") == true)
        #expect(PublicSuffixList(text: "").isPublicSuffix("any.thing") == false)
    }

    @Test("a list from a file; a missing file throws")
    func fileList() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("psl-\(UUID().uuidString).dat").path
        try "example\n*.wild.example\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let list = try PublicSuffixList(contentsOfFile: path)
        #expect(list.source == path)
        #expect(list.isPublicSuffix("x.wild.example") && !list.isPublicSuffix("y.x.wild.example"))
        #expect(throws: (any Error).self) { try PublicSuffixList(contentsOfFile: path + ".missing") }
    }

    @Test("Punycode (RFC 3492)")
    func punycode() {
        #expect(Punycode.toASCII(domain: "bücher") == "xn--bcher-kva")
        #expect(Punycode.toASCII(domain: "münchen.de") == "xn--mnchen-3ya.de")
        #expect(Punycode.toASCII(domain: "中国") == "xn--fiqs8s")
        #expect(Punycode.toASCII(domain: "香港") == "xn--j6w193g")
        #expect(Punycode.toASCII(domain: "рф") == "xn--p1ai")
        #expect(Punycode.toASCII(domain: "公司.cn") == "xn--55qx5d.cn")
        #expect(Punycode.toASCII(domain: "plain.example") == "plain.example")
    }

    @Test("Domain attributes that are public suffixes")
    func jarRefusesPublicSuffixes() {
        #expect(rejection(outcome("a=1; Domain=com", from: "http://www.example.com/")) == .publicSuffixDomain)
        #expect(rejection(outcome("a=1; Domain=.co.uk", from: "http://www.example.co.uk/")) == .publicSuffixDomain)
        #expect(rejection(outcome("a=1; Domain=foo.ck", from: "http://a.foo.ck/")) == .publicSuffixDomain)
        #expect(storedCookie(outcome("a=1; Domain=www.ck", from: "http://a.www.ck/"))?.domain == "www.ck")
        #expect(storedCookie(outcome("a=1; Domain=example.co.uk", from: "http://www.example.co.uk/"))?.hostOnly == false)
        // Equal to the request host: the cookie becomes host-only (§5.7).
        var j = CookieJar()
        let c = storedCookie(outcome("a=1; Domain=co.uk", from: "http://co.uk/", into: &j))
        #expect(c?.hostOnly == true && c?.domain == "co.uk")
        #expect(header(&j, "http://co.uk/") == "a=1")
        #expect(header(&j, "http://www.example.co.uk/") == nil)
        // A custom list changes the decision.
        let policy = CookiePolicy(publicSuffixes: PublicSuffixList(text: "example.com"))
        #expect(rejection(outcome("a=1; Domain=example.com", from: "http://www.example.com/", policy: policy)) == .publicSuffixDomain)
    }

    @Test("IP address hosts take only their own address, host-only")
    func ipHosts() {
        var j = CookieJar()
        let c = storedCookie(outcome("a=1; Domain=127.0.0.1", from: "http://127.0.0.1:8080/", into: &j))
        #expect(c?.hostOnly == true && c?.domain == "127.0.0.1")
        #expect(rejection(outcome("b=1; Domain=0.0.1", from: "http://127.0.0.1/", into: &j)) == .ipDomainMismatch)
        #expect(rejection(outcome("b=1; Domain=1.2.3.4", from: "http://127.0.0.1/", into: &j)) == .ipDomainMismatch)
        #expect(rejection(outcome("b=1; Domain=example.com", from: "http://[::1]/", into: &j)) == .ipDomainMismatch)
        #expect(storedCookie(outcome("v6=1; Domain=[::1]", from: "http://[::1]/", into: &j))?.hostOnly == true)
        #expect(header(&j, "http://127.0.0.1/") == "a=1")
        #expect(header(&j, "http://127.0.0.2/") == nil)
        #expect(header(&j, "http://[::1]/") == "v6=1")
    }
}
