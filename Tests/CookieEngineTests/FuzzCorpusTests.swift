import Foundation
import Testing

@testable import CookieEngine

/// Replays the committed fuzz corpus (Fuzz/corpus, see docs/security.md) in the ordinary test
/// run, with the invariants the fuzz targets check, so a regression on an input the fuzzer once
/// found interesting fails `swift test` without the fuzzer build.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    static func inputs(_ target: String) throws -> [[UInt8]] {
        let directory = corpus.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { Array(try Data(contentsOf: directory.appendingPathComponent($0))) }
    }

    static func holdsForbiddenByte(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }

    @Test("every cookie-date input parses to a whole second from 1601 on that survives formatting")
    func cookieDates() throws {
        let inputs = try Self.inputs("cookie-date")
        #expect(inputs.count >= 10)
        var parsed = 0
        for input in inputs {
            guard let time = CookieDate.parse(String(decoding: input, as: UTF8.self)) else { continue }
            parsed += 1
            #expect(time >= CookieTime(unixSeconds: -11_644_473_600))
            #expect(CookieDate.parse(CookieDate.format(time)) == time)
        }
        #expect(parsed > 0)
    }

    @Test("every set-cookie input keeps a jar within its limits and its Cookie headers free of CR, LF and NUL")
    func setCookies() throws {
        let limits = CookieLimits(maxCookiesPerDomain: 4, maxCookiesPerJar: 6, maxNameValueBytes: 96)
        let inputs = try Self.inputs("set-cookie")
        #expect(inputs.count >= 100)
        var stored = 0
        for input in inputs where !input.isEmpty {
            let fields = input.dropFirst().split(separator: 0xFF, omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            var jar = CookieJar(policy: CookiePolicy(limits: limits))
            jar.receive(setCookie: fields, from: url("https://www.example.com/app/login"), now: t0)
            stored += jar.count
            #expect(jar.count <= limits.maxCookiesPerJar)
            for cookie in jar.cookies {
                #expect(cookie.name.utf8.count + cookie.value.utf8.count <= limits.maxNameValueBytes)
                #expect(!Self.holdsForbiddenByte(cookie.name + cookie.value + cookie.domain + cookie.path))
                #expect(try CookieCodec.decode(CookieCodec.encode(cookie)) == cookie)
            }
            if let header = jar.cookieHeader(for: url("https://www.example.com/app/login"), now: t0) {
                #expect(!Self.holdsForbiddenByte(header))
            }
            for part in SetCookieSplitter.split(fields.joined(separator: ", ")) {
                #expect(!part.isEmpty && part.utf8.first != 0x20 && part.utf8.last != 0x20)
            }
        }
        #expect(stored > 0)
    }
}
