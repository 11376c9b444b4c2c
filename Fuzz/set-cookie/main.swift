// libFuzzer target: folded Set-Cookie splitting, Set-Cookie parsing, applying to a jar, and
// building the Cookie header. Built only with `swift build --sanitize=fuzzer` (see scripts/fuzz);
// in a plain build this file holds declarations only and the program does nothing.
//
// Input: one option byte, then Set-Cookie field values separated by 0xFF (a byte no UTF-8 text
// holds), each applied to one jar. Invariants: no crash, the limits hold, no stored cookie and no
// Cookie header holds CR, LF or NUL, split parts are trimmed and non-empty, stored cookies
// survive the storage codec unchanged.
import CookieEngine

let fuzzLimits = CookieLimits(
    maxCookiesPerDomain: 4, maxCookiesPerJar: 6, maxNameValueBytes: 96, maxAttributeValueBytes: 48,
    maxAgeSeconds: 86_400)
let fuzzHosts = ["example.com", "www.example.com", "a.b.example.co.uk", "127.0.0.1", "localhost", "[::1]"]
let fuzzPaths = ["/", "/app/login", "/app/", "/x/y/z"]
let fuzzNow = CookieTime(unixSeconds: 1_767_225_600)  // 2026-01-01T00:00:00Z

func fuzzCheck(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(what())") }
}

func fuzzHasForbiddenByte(_ text: String) -> Bool {
    text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
}

func fuzzSplit(_ field: String) {
    let parts = SetCookieSplitter.split(field)
    for part in parts {
        fuzzCheck(!part.isEmpty, "empty split part")
        fuzzCheck(part.utf8.first != 0x20 && part.utf8.first != 0x09, "untrimmed split part")
        fuzzCheck(part.utf8.last != 0x20 && part.utf8.last != 0x09, "untrimmed split part")
    }
    if !SetCookieSplitter.isFolded(field) { fuzzCheck(parts.count <= 1, "unfolded value split") }
}

func fuzzJar(_ fields: [String], options: UInt8) {
    let policy = CookiePolicy(
        limits: fuzzLimits, splitsFoldedSetCookie: options & 1 == 0, treatsLoopbackAsSecure: options & 2 == 0)
    let url = CookieURL(
        isSecure: options & 4 != 0, host: fuzzHosts[Int(options >> 3) % fuzzHosts.count],
        path: fuzzPaths[Int(options >> 6) % fuzzPaths.count])
    var jar = CookieJar(policy: policy)
    var now = fuzzNow
    for field in fields {
        jar.receive(setCookie: field, from: url, now: now)
        now = now.adding(seconds: 30)
    }
    var explained = CookieJar(policy: policy)
    let (_, outcomes) = explained.receiveExplained(setCookie: fields, from: url, now: fuzzNow)
    fuzzCheck(explained.count <= fuzzLimits.maxCookiesPerJar, "explained jar over its limit")
    _ = outcomes.count

    fuzzCheck(jar.count <= fuzzLimits.maxCookiesPerJar, "jar over its limit: \(jar.count)")
    var perDomain: [String: Int] = [:]
    for cookie in jar.cookies {
        perDomain[cookie.domain, default: 0] += 1
        fuzzCheck(cookie.name.utf8.count + cookie.value.utf8.count <= fuzzLimits.maxNameValueBytes, "cookie over its size")
        for text in [cookie.name, cookie.value, cookie.domain, cookie.path] {
            fuzzCheck(!fuzzHasForbiddenByte(text), "stored cookie holds CR, LF or NUL")
        }
        if let expiry = cookie.expiry {
            fuzzCheck(expiry <= now.adding(seconds: fuzzLimits.maxAgeSeconds), "expiry past the Max-Age cap")
        }
        let decoded = try? CookieCodec.decode(CookieCodec.encode(cookie))
        fuzzCheck(decoded == cookie, "codec round trip changed a cookie")
    }
    for (_, count) in perDomain { fuzzCheck(count <= fuzzLimits.maxCookiesPerDomain, "domain over its limit") }

    for host in fuzzHosts {
        for secure in [false, true] {
            let target = CookieURL(isSecure: secure, host: host, path: "/app/login")
            if let header = jar.cookieHeader(for: target, now: now) {
                fuzzCheck(!fuzzHasForbiddenByte(header), "Cookie header holds CR, LF or NUL")
                fuzzCheck(!header.isEmpty, "empty Cookie header")
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSetCookie(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let options = bytes.first else { return 0 }
    let fields = bytes.dropFirst().split(separator: 0xFF, omittingEmptySubsequences: false).prefix(32)
        .map { String(decoding: $0, as: UTF8.self) }
    for field in fields {
        fuzzSplit(field)
        _ = CookieHeaderParser.pairs(in: field)
        _ = CookieHeaderParser.normalize(field)
    }
    fuzzJar(fields, options: options)
    return 0
}
