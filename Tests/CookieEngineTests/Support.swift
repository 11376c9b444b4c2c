import Foundation
import Testing

@testable import CookieEngine

/// 2026-01-01T00:00:00Z, the start of most scenarios.
let t0 = CookieTime(iso8601: "2026-01-01T00:00:00Z")!

extension CookieTime {
    func plus(_ seconds: Int64) -> CookieTime { adding(seconds: seconds) }
}

func url(_ s: String) -> CookieURL {
    guard let u = CookieURL(string: s) else { fatalError("bad test URL \(s)") }
    return u
}

/// The policy of the gateway (folded values split) and the RFC reading (each value whole).
let gatewayPolicy = CookiePolicy()
let rfcPolicy = CookiePolicy(splitsFoldedSetCookie: false)

/// A jar that received `setCookies` from `from` at `now`.
func jar(_ setCookies: [String], from: String = "http://www.example.com/", now: CookieTime = t0,
         policy: CookiePolicy = gatewayPolicy) -> CookieJar {
    var j = CookieJar(policy: policy)
    j.receive(setCookie: setCookies, from: url(from), now: now)
    return j
}

/// The Cookie header a jar sends to `to` at `now`.
func header(_ j: inout CookieJar, _ to: String, now: CookieTime = t0) -> String? {
    j.cookieHeader(for: url(to), now: now)
}

/// What became of one set-cookie-string received from `from`.
func outcome(_ setCookie: String, from: String = "http://www.example.com/", now: CookieTime = t0,
             into j: inout CookieJar) -> SetCookieOutcome? {
    j.receiveExplained(setCookie: [setCookie], from: url(from), now: now).outcomes.first?.outcome
}

func outcome(_ setCookie: String, from: String = "http://www.example.com/", now: CookieTime = t0,
             policy: CookiePolicy = gatewayPolicy) -> SetCookieOutcome? {
    var j = CookieJar(policy: policy)
    return outcome(setCookie, from: from, now: now, into: &j)
}

func rejection(_ o: SetCookieOutcome?) -> SetCookieRejection? {
    if case .ignored(let why) = o { return why }
    return nil
}

func storedCookie(_ o: SetCookieOutcome?) -> Cookie? {
    switch o {
    case .stored(let c), .replaced(let c): return c
    default: return nil
    }
}

/// The conformance files copied into Fixtures/ (see Fixtures/http-state.SOURCE.md).
enum Fixtures {
    static func lines(_ file: String) -> [Data] {
        guard let u = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures"),
              let text = try? String(contentsOf: u, encoding: .utf8)
        else { fatalError("missing fixture \(file)") }
        return text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.map { Data($0.utf8) }
    }

    struct HTTPStateCase: Sendable, CustomTestStringConvertible {
        var name: String
        var category: String
        var scenario: CookieReplay.Scenario
        var expect: [String?]
        var expectBis: [String?]
        var bisAmbiguous: Bool
        var testDescription: String { name }
    }

    private struct HTTPStateExpectations: Decodable {
        var name: String
        var category: String
        var expect: [String?]
        var expect_6265bis: [String?]
        var bis_ambiguous: Bool?
    }

    static let httpState: [HTTPStateCase] = lines("http-state.jsonl").map { line in
        let d = JSONDecoder()
        do {
            let e = try d.decode(HTTPStateExpectations.self, from: line)
            let s = try d.decode(CookieReplay.Scenario.self, from: line)
            return HTTPStateCase(name: e.name, category: e.category, scenario: s, expect: e.expect,
                                 expectBis: e.expect_6265bis, bisAmbiguous: e.bis_ambiguous ?? false)
        } catch {
            fatalError("bad http-state fixture line: \(error)")
        }
    }

    struct SplitCase: Sendable, Decodable, CustomTestStringConvertible {
        var id: String
        var joined: String
        var expected: [String]
        var ambiguous: Bool?
        var alt: [[String]]?
        var testDescription: String { id }
    }

    static let commaSplit: [SplitCase] = lines("comma-split.jsonl").map { line in
        do { return try JSONDecoder().decode(SplitCase.self, from: line) } catch {
            fatalError("bad comma-split fixture line: \(error)")
        }
    }
}
