import Foundation
import Testing

@testable import CookieEngine

@Suite("Replay runner")
struct ReplayTests {
    func decode(_ json: String) throws -> CookieReplay.Scenario {
        try JSONDecoder().decode(CookieReplay.Scenario.self, from: Data(json.utf8))
    }

    @Test("steps: receive, send, advance")
    func steps() throws {
        let s = try decode("""
            {"name": "t", "now": "2026-01-01T00:00:00Z", "steps": [
              {"receive": {"url": "http://a.example/x", "set_cookie": ["a=1; Max-Age=10, b=2", "c=3; Path=/y"]}},
              {"send": {"url": "http://a.example/y"}},
              {"advance": 10},
              {"send": {"url": "http://a.example/"}},
              {"advance": 0.5},
              {"send": {"url": "http://other.example/"}}
            ]}
            """)
        #expect(s.now == t0 && s.steps.count == 6)
        #expect(try CookieReplay.run(s) == ["c=3; a=1; b=2", "b=2", nil])
        // Read whole, "Max-Age=10, b=2" is an invalid Max-Age: a stays as a session cookie.
        #expect(try CookieReplay.run(s, policy: rfcPolicy) == ["c=3; a=1", "a=1", nil])
    }

    @Test("the clock starts now when no time is given")
    func defaultNow() throws {
        let s = try decode(#"{"name": "t", "steps": [{"receive": {"url": "http://a.example/", "set_cookie": ["a=1; Expires=Thu, 01 Jan 2099 00:00:00 GMT"]}}, {"send": {"url": "http://a.example/"}}]}"#)
        #expect(s.now == nil)
        #expect(try CookieReplay.run(s) == ["a=1"])
        #expect(try CookieReplay.run(s, defaultStart: CookieTime(iso8601: "2100-01-01T00:00:00Z")) == [nil])
    }

    @Test("malformed scenarios")
    func malformed() throws {
        #expect(throws: DecodingError.self) { try decode(#"{"name": "t", "steps": [{"jump": 1}]}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"name": "t", "now": "yesterday", "steps": []}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"steps": []}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"name": "t", "steps": [{"send": {"url": "http://a/"}, "advance": 1}]}"#) }
        let badURL = try decode(#"{"name": "t", "steps": [{"send": {"url": "not a url"}}]}"#)
        #expect(throws: CookieReplay.Failure.self) { try CookieReplay.run(badURL) }
    }

    @Test("explained outcomes")
    func explained() {
        var j = CookieJar()
        let result = j.receiveExplained(setCookie: ["a=1, s=2; Secure", "a=3", "z=; Max-Age=0"], from: url("http://x.example/"), now: t0)
        #expect(result.outcomes.map(\.setCookie) == ["a=1", "s=2; Secure", "a=3", "z=; Max-Age=0"])
        #expect(storedCookie(result.outcomes[0].outcome)?.value == "1")
        #expect(rejection(result.outcomes[1].outcome) == .secureFromInsecureOrigin)
        #expect({ if case .replaced(let c) = result.outcomes[2].outcome { c.value == "3" } else { false } }())
        #expect(result.outcomes[3].outcome == .deleted(CookieKey(name: "z", domain: "x.example", path: "/"), existed: false))
        #expect(result.changes.upserted.map(\.value) == ["3"])
    }

    @Test("arbitrary input never traps")
    func fuzz() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("ab=;, \t\"\\/.:-_%!$\u{0}\u{7F}春Ee0123456789PathDomainExpiresMax-AgeSecureSameSite__Host-".utf8)
        var j = CookieJar(policy: CookiePolicy(limits: CookieLimits(maxCookiesPerDomain: 20, maxCookiesPerJar: 40)))
        for i in 0..<3000 {
            let n = Int(rng.next() % 60)
            let bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let s = String(decoding: bytes, as: UTF8.self)
            j.receive(setCookie: s, from: url(i % 2 == 0 ? "http://a.example.com/p/q" : "https://b.example.com/"), now: t0.plus(Int64(i)))
            _ = SetCookieSplitter.split(s)
            _ = CookieHeaderParser.pairs(in: s)
            _ = CookieDate.parse(s)
            _ = j.cookieHeader(for: url("https://a.example.com/p/q/r"), now: t0.plus(Int64(i)))
            for c in j.cookies { #expect((try? CookieCodec.decode(CookieCodec.encode(c))) == c) }
        }
        #expect(j.count <= 40)
    }
}
