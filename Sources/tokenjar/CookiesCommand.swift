import ArgumentParser
import CookieEngine
import Foundation
import TokenJarGateway

/// `tokenjar cookies …`: the cookie engine, offline. These are the diagnostics to run when a
/// backend's cookie "doesn't stick": feed the exact Set-Cookie lines the backend sent and see
/// what the gateway's jar keeps and sends back.
struct CookiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cookies",
        abstract: "Diagnose cookies that don't stick: run the gateway's cookie engine offline.",
        discussion: """
            When a backend's session cookie "doesn't stick" (the backend sets it, but the next \
            request arrives without it), replay the backend's exact Set-Cookie lines through the \
            same engine the gateway uses. `replay` shows the Cookie header the gateway would send \
            for each request; `split` shows how a comma-folded Set-Cookie value is cut into \
            cookies. Both read and write JSON Lines, one case per line.
            """,
        subcommands: [Replay.self, Split.self]
    )
}

extension CookiesCommand {
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay Set-Cookie responses and requests; print the Cookie headers that would be sent.",
            discussion: """
                The diagnostic to run when a backend's cookie "doesn't stick". Reads JSON Lines \
                on standard input, one scenario per line:

                  {"name": S, "now": "2026-01-01T00:00:00Z", "steps": [STEP, ...]}

                where STEP is {"receive": {"url": U, "set_cookie": [V, ...]}} (a response from U \
                with these Set-Cookie field values, in order; a value may be comma-folded), \
                {"send": {"url": U}} (a request to U) or {"advance": SECONDS}. Each scenario \
                starts with an empty jar and the clock at "now" (the current time when absent).

                Prints one line per scenario, in input order: {"name": S, "cookies": [C, ...]} \
                with one entry per send step, the Cookie header value or null. A scenario that \
                cannot run prints {"name": S, "error": "..."} and the command goes on. \
                With --explain, what became of each set-cookie-string (stored, replaced, \
                deleted, or ignored and why) is written to standard error.
                """
        )

        @Option(name: .customLong("public-suffix-list"), help: ArgumentHelp(
            "A public suffix list file to use instead of the system or bundled one.", valueName: "FILE"))
        var publicSuffixList: String?

        @Flag(name: .customLong("no-split"), help: """
            Read each Set-Cookie value as exactly one set-cookie-string (RFC 6265bis §5.6), \
            without splitting comma-folded values as the gateway does.
            """)
        var noSplit = false

        @Flag(help: "Write what became of each set-cookie-string to standard error.")
        var explain = false

        func run() throws {
            var policy = CookiePolicy.default
            if let path = publicSuffixList {
                do {
                    policy.publicSuffixes = try PublicSuffixList(contentsOfFile: path)
                } catch {
                    throw ValidationError("cannot read the public suffix list \(path): \(error.localizedDescription)")
                }
            }
            policy.splitsFoldedSetCookie = !noSplit
            let decoder = JSONDecoder()
            while let line = readLine(strippingNewline: true) {
                if line.allSatisfy({ $0.isWhitespace }) { continue }
                let data = Data(line.utf8)
                let scenario: CookieReplay.Scenario
                do {
                    scenario = try decoder.decode(CookieReplay.Scenario.self, from: data)
                } catch {
                    emit(JSONOut.object([("name", scenarioName(in: data)), ("error", JSONOut.string(describeDecodingError(error)))]))
                    continue
                }
                do {
                    let sent = try run(scenario, policy: policy)
                    emit(JSONOut.object([
                        ("name", JSONOut.string(scenario.name)),
                        ("cookies", JSONOut.array(sent.map { $0.map(JSONOut.string) ?? "null" })),
                    ]))
                } catch {
                    emit(JSONOut.object([("name", JSONOut.string(scenario.name)), ("error", JSONOut.string(error.message))]))
                }
            }
        }

        func run(_ scenario: CookieReplay.Scenario, policy: CookiePolicy) throws(CookieReplay.Failure) -> [String?] {
            guard explain else { return try CookieReplay.run(scenario, policy: policy) }
            // The same steps as CookieReplay.run, narrating each set-cookie-string.
            var now = scenario.now ?? SystemCookieClock().now()
            var jar = CookieJar(policy: policy)
            var sent: [String?] = []
            for (i, step) in scenario.steps.enumerated() {
                switch step {
                case .receive(let url, let values):
                    guard let u = CookieURL(string: url) else { throw .init("step \(i + 1): bad URL \(url)") }
                    for (text, outcome) in jar.receiveExplained(setCookie: values, from: u, now: now).outcomes {
                        note("\(scenario.name) step \(i + 1): \(text.debugDescription) -> \(describe(outcome))")
                    }
                case .send(let url):
                    guard let u = CookieURL(string: url) else { throw .init("step \(i + 1): bad URL \(url)") }
                    let header = jar.cookieHeader(for: u, now: now)
                    note("\(scenario.name) step \(i + 1): send to \(u) -> \(header.map { "Cookie: " + $0 } ?? "no Cookie header")")
                    sent.append(header)
                case .advance(let seconds):
                    guard seconds.isFinite, abs(seconds) < 1e12 else { throw .init("step \(i + 1): bad advance") }
                    now = now.adding(microseconds: Int64((seconds * 1_000_000).rounded()))
                }
            }
            return sent
        }

        func describe(_ outcome: SetCookieOutcome) -> String {
            switch outcome {
            case .stored(let c): "stored \(c)"
            case .replaced(let c): "replaced \(c)"
            case .deleted(let k, let existed): existed ? "deleted \(k)" : "expired on arrival (nothing to delete for \(k))"
            case .ignored(let why): "ignored: \(why.rawValue)"
            }
        }
    }

    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split comma-folded Set-Cookie values into their separate cookies.",
            discussion: """
                A diagnostic for cookies that "don't stick" because an intermediary or wx.request \
                folded several Set-Cookie fields into one comma-joined value. Reads JSON Lines on \
                standard input, each a JSON string (one Set-Cookie field value as received), and \
                prints for each a JSON array of the separate set-cookie-strings, trimmed, as the \
                gateway reads them.
                """
        )

        func run() throws {
            while let line = readLine(strippingNewline: true) {
                if line.allSatisfy({ $0.isWhitespace }) { continue }
                guard let value = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? String
                else {
                    emit(JSONOut.object([("error", JSONOut.string("not a JSON string"))]))
                    continue
                }
                emit(JSONOut.array(SetCookieSplitter.split(value).map(JSONOut.string)))
            }
        }
    }
}

/// Writes one line to standard output and flushes it.
private func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Writes one line to standard error.
private func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

private func scenarioName(in data: Data) -> String {
    if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let name = object["name"] as? String {
        return JSONOut.string(name)
    }
    return "null"
}

private func describeDecodingError(_ error: any Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let context):
        return "malformed scenario: \(context.debugDescription)" + path(context.codingPath)
    case DecodingError.keyNotFound(let key, let context):
        return "malformed scenario: missing \(key.stringValue)" + path(context.codingPath)
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        return "malformed scenario: \(context.debugDescription)" + path(context.codingPath)
    default:
        return "malformed scenario: \(error)"
    }
}

private func path(_ codingPath: [any CodingKey]) -> String {
    var out = ""
    for key in codingPath {
        if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
    }
    return out.isEmpty ? "" : " at " + out
}

/// A small JSON writer for the command's output lines.
enum JSONOut {
    static func string(_ s: String) -> String { JSONString.quoted(s) }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }
}
