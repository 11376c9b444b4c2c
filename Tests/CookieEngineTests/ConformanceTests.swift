import Testing

@testable import CookieEngine

/// The http-state parser suite (IETF http-state WG) and the comma-split cases, run through the
/// engine from the copies in Fixtures/.
@Suite("Conformance fixtures")
struct ConformanceTests {
    @Test("fixtures are complete")
    func fixtureCounts() {
        #expect(Fixtures.httpState.count == 222)
        #expect(Fixtures.httpState.filter { $0.category == "normal" }.count == 214)
        #expect(Fixtures.httpState.filter { $0.category == "optional" }.count == 4)
        #expect(Fixtures.httpState.filter { $0.category == "disabled" }.count == 4)
        #expect(Fixtures.httpState.filter(\.bisAmbiguous).map(\.name) == ["http-state/optional-domain0042"])
        #expect(Fixtures.commaSplit.count == 28)
    }

    /// Every case, each Set-Cookie value read whole (RFC 6265bis §5.6): all 222 match
    /// `expect_6265bis`, including the disabled ones and the bis-ambiguous one (the engine follows
    /// the current draft there: the last Domain attribute wins even when empty).
    @Test("http-state, RFC 6265bis expectations (values read whole)", arguments: Fixtures.httpState)
    func httpStateRFC(_ c: Fixtures.HTTPStateCase) throws {
        let got = try CookieReplay.run(c.scenario, policy: rfcPolicy)
        #expect(got == c.expectBis)
    }

    /// The suite's published expectations (RFC 6265 era) agree with the engine wherever they agree
    /// with RFC 6265bis; where they differ (nameless cookies, the empty Domain), the engine
    /// follows RFC 6265bis.
    @Test("http-state, published expectations", arguments: Fixtures.httpState.filter { $0.category != "disabled" })
    func httpStatePublished(_ c: Fixtures.HTTPStateCase) throws {
        let got = try CookieReplay.run(c.scenario, policy: rfcPolicy)
        if c.expect == c.expectBis {
            #expect(got == c.expect)
        } else {
            #expect(got != c.expect)
            #expect(got == c.expectBis)
        }
    }

    /// In gateway mode (folded values split), every case whose values are not folded behaves as
    /// above, and every folded one behaves exactly as if its parts had arrived as separate fields.
    @Test("http-state, gateway mode (folded values split)", arguments: Fixtures.httpState)
    func httpStateGateway(_ c: Fixtures.HTTPStateCase) throws {
        let got = try CookieReplay.run(c.scenario, policy: gatewayPolicy)
        if !Self.isFolded(c.scenario) {
            #expect(got == c.expectBis)
        } else {
            let unfolded = try CookieReplay.run(Self.unfold(c.scenario), policy: rfcPolicy)
            #expect(got == unfolded)
        }
    }

    /// The six cases where the suite reads a comma-joined value as one cookie, while a gateway
    /// that splits folded values (as comma-split.jsonl requires) reads several.
    @Test("http-state comma cases in gateway mode")
    func commaCasesInGatewayMode() throws {
        let expected: [String: [String?]] = [
            "http-state/0017": ["z=y; a=b"],
            "http-state/0018": ["z=y; a=b"],
            "http-state/0019": ["foo=b; c=d"],
            "http-state/comma0001": ["foo=bar; baz=qux"],
            "http-state/comma0003": ["foo=bar; az=qux"],
            "http-state/comma0007": ["foo=bar; baz=qux"],
        ]
        var differing: [String: [String?]] = [:]
        for c in Fixtures.httpState {
            let got = try CookieReplay.run(c.scenario, policy: gatewayPolicy)
            if got != c.expectBis { differing[c.name] = got }
        }
        #expect(differing == expected)
    }

    @Test("comma-split cases", arguments: Fixtures.commaSplit)
    func commaSplit(_ c: Fixtures.SplitCase) {
        let got = SetCookieSplitter.split(c.joined)
        var accepted = [c.expected]
        if c.ambiguous == true { accepted += c.alt ?? [] }
        #expect(accepted.contains(got), "\(c.joined.debugDescription) -> \(got)")
        // The engine takes the primary reading everywhere.
        #expect(got == c.expected)
    }

    static func isFolded(_ s: CookieReplay.Scenario) -> Bool {
        s.steps.contains { step in
            if case .receive(_, let values) = step { return values.contains(where: SetCookieSplitter.isFolded) }
            return false
        }
    }

    static func unfold(_ s: CookieReplay.Scenario) -> CookieReplay.Scenario {
        var out = s
        out.steps = s.steps.map { step in
            if case .receive(let u, let values) = step {
                return .receive(url: u, setCookie: values.flatMap { SetCookieSplitter.split($0) })
            }
            return step
        }
        return out
    }
}
