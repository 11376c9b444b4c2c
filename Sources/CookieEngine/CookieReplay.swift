/// Replays cookie scenarios: responses received, requests sent, time passing. This is what
/// `tokenjar cookies replay` runs, and what the conformance tests run.
///
/// A scenario decodes from the JSON shape
/// `{"name": S, "now": "2026-01-01T00:00:00Z", "steps": [STEP, ...]}` where a STEP is
/// `{"receive": {"url": U, "set_cookie": [V, ...]}}`, `{"send": {"url": U}}` or
/// `{"advance": SECONDS}`.
public enum CookieReplay {
    public struct Scenario: Sendable, Hashable, Decodable {
        public var name: String
        /// The clock's start; nil means "the current time" to the runner.
        public var now: CookieTime?
        public var steps: [Step]

        public init(name: String, now: CookieTime? = nil, steps: [Step]) {
            self.name = name
            self.now = now
            self.steps = steps
        }

        enum CodingKeys: String, CodingKey { case name, now, steps }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            if let text = try c.decodeIfPresent(String.self, forKey: .now) {
                guard let t = CookieTime(iso8601: text) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .now, in: c, debugDescription: "not an ISO 8601 date-time: \(text)")
                }
                now = t
            } else {
                now = nil
            }
            steps = try c.decode([Step].self, forKey: .steps)
        }
    }

    public enum Step: Sendable, Hashable, Decodable {
        /// A response from `url` carrying these Set-Cookie field values, in order.
        case receive(url: String, setCookie: [String])
        /// A request to `url`; its Cookie header (or nil) is the step's result.
        case send(url: String)
        /// Time passes.
        case advance(seconds: Double)

        enum CodingKeys: String, CodingKey { case receive, send, advance }
        enum ReceiveKeys: String, CodingKey {
            case url
            case setCookie = "set_cookie"
        }
        enum SendKeys: String, CodingKey { case url }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let present = c.allKeys
            guard present.count == 1, let key = present.first else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: c.codingPath,
                    debugDescription: "a step needs exactly one of receive, send, advance"))
            }
            switch key {
            case .receive:
                let r = try c.nestedContainer(keyedBy: ReceiveKeys.self, forKey: .receive)
                self = .receive(
                    url: try r.decode(String.self, forKey: .url),
                    setCookie: try r.decodeIfPresent([String].self, forKey: .setCookie) ?? [])
            case .send:
                let s = try c.nestedContainer(keyedBy: SendKeys.self, forKey: .send)
                self = .send(url: try s.decode(String.self, forKey: .url))
            case .advance:
                self = .advance(seconds: try c.decode(Double.self, forKey: .advance))
            }
        }
    }

    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// Runs a scenario on an empty jar; returns one entry per send step: the Cookie header value,
    /// or nil when none would be sent.
    public static func run(
        _ scenario: Scenario, policy: CookiePolicy = .default, defaultStart: CookieTime? = nil
    ) throws(Failure) -> [String?] {
        var clock = ManualCookieClock(scenario.now ?? defaultStart ?? SystemCookieClock().now())
        var jar = CookieJar(policy: policy)
        var sent: [String?] = []
        for (index, step) in scenario.steps.enumerated() {
            switch step {
            case .receive(let url, let setCookie):
                guard let u = CookieURL(string: url) else { throw Failure("step \(index + 1): bad URL \(url)") }
                jar.receive(setCookie: setCookie, from: u, now: clock.now())
            case .send(let url):
                guard let u = CookieURL(string: url) else { throw Failure("step \(index + 1): bad URL \(url)") }
                sent.append(jar.cookieHeader(for: u, now: clock.now()))
            case .advance(let seconds):
                guard seconds.isFinite, abs(seconds) < 1e12 else {
                    throw Failure("step \(index + 1): bad advance \(seconds)")
                }
                clock.advance(microseconds: Int64((seconds * 1_000_000).rounded()))
            }
        }
        return sent
    }
}
