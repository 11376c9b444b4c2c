import Testing

@testable import CookieEngine

@Suite("Cookie codec")
struct CodecTests {
    static let samples: [Cookie] = [
        Cookie(name: "sid", value: "0123456789abcdef", domain: "www.example.com", creation: t0),
        Cookie(name: "", value: "nameless", domain: "example.com", path: "/a/b", expiry: t0.plus(60),
               creation: t0.plus(1), lastAccess: t0.plus(2), hostOnly: false, secure: true, httpOnly: true,
               sameSite: .strict),
        Cookie(name: "春节", value: "家路·春运 \"q\" ;=", domain: "xn--fiqs8s", path: "/", creation: t0,
               sameSite: .noRestriction),
        Cookie(name: "big", value: String(repeating: "v", count: 5000), domain: "d", path: "/" + String(repeating: "p", count: 200),
               expiry: .earliest, creation: .earliest, lastAccess: .latest, sameSite: .lax),
        Cookie(name: "e", value: "", domain: "", path: "", expiry: CookieTime(microsecondsSinceEpoch: -1),
               creation: CookieTime(microsecondsSinceEpoch: 0)),
    ]

    @Test("round trip", arguments: samples)
    func roundTrip(_ cookie: Cookie) throws {
        let bytes = CookieCodec.encode(cookie)
        #expect(bytes.first == CookieCodec.currentVersion)
        #expect(try CookieCodec.decode(bytes) == cookie)
        #expect(try CookieCodec.decode(bytes[...]) == cookie)  // any collection
    }

    @Test("round trip of parsed cookies")
    func roundTripParsed() throws {
        let j = jar(["a=1; Max-Age=60; HttpOnly", "b=2; Domain=example.com; Path=/x; SameSite=Lax", "nameless"])
        for c in j.cookies { #expect(try CookieCodec.decode(CookieCodec.encode(c)) == c) }
    }

    @Test("a known encoding stays stable")
    func stableLayout() {
        let c = Cookie(name: "a", value: "b", domain: "h", path: "/", expiry: CookieTime(microsecondsSinceEpoch: 2),
                       creation: CookieTime(microsecondsSinceEpoch: 1), lastAccess: CookieTime(microsecondsSinceEpoch: 258),
                       hostOnly: true, secure: true, httpOnly: false, sameSite: .lax)
        #expect(CookieCodec.encode(c) == [
            1, 0x0B, 2,
            1, 0, 0, 0, 0, 0, 0, 0,
            2, 1, 0, 0, 0, 0, 0, 0,
            2, 0, 0, 0, 0, 0, 0, 0,
            1, 0x61, 1, 0x62, 1, 0x68, 1, 0x2F,
        ])
    }

    @Test("rejections")
    func rejections() {
        let good = CookieCodec.encode(Self.samples[1])
        #expect(throws: CookieCodecError.empty) { try CookieCodec.decode([UInt8]()) }
        var v2 = good
        v2[0] = 2
        #expect(throws: CookieCodecError.unsupportedVersion(2)) { try CookieCodec.decode(v2) }
        var v0 = good
        v0[0] = 0
        #expect(throws: CookieCodecError.unsupportedVersion(0)) { try CookieCodec.decode(v0) }
        var flags = good
        flags[1] |= 0x40
        #expect(throws: CookieCodecError.invalidFlags(flags[1])) { try CookieCodec.decode(flags) }
        var sameSite = good
        sameSite[2] = 9
        #expect(throws: CookieCodecError.invalidSameSite(9)) { try CookieCodec.decode(sameSite) }
        #expect(throws: CookieCodecError.trailingBytes(1)) { try CookieCodec.decode(good + [0]) }
        // Every truncation is refused as truncated.
        for n in 1..<good.count {
            #expect(throws: CookieCodecError.truncated) { try CookieCodec.decode(good.prefix(n)) }
        }
        // Invalid UTF-8 in a string field.
        let c = Cookie(name: "ab", value: "v", domain: "d", creation: t0)
        var bad = CookieCodec.encode(c)
        let nameAt = bad.firstIndex(of: 0x61)!
        bad[nameAt] = 0xFF
        #expect(throws: CookieCodecError.invalidUTF8) { try CookieCodec.decode(bad) }
        // A length prefix that never ends.
        let header = Array(CookieCodec.encode(c).prefix(19))
        #expect(throws: CookieCodecError.invalidLength) { try CookieCodec.decode(header + Array(repeating: 0xFF, count: 12)) }
    }
}
