import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// Tokens: never logged, infeasible to guess, never adopted, and dead once revoked or expired.
@Suite("Tokens and identity")
struct TokenSecrecyTests {
    @Test("minted tokens are 256 random bits in base64url, unique over 20,000 mints")
    func tokenShape() throws {
        var seen = Set<String>()
        var bitCounts = [Int](repeating: 0, count: 256)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for _ in 0..<20_000 {
            let token = SessionToken.mint()
            #expect(token.count == 43 && token.allSatisfy { alphabet.contains($0) })
            #expect(SessionToken.isWellFormed(token))
            seen.insert(token)
            var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += "="
            let bytes = try #require(Data(base64Encoded: base64))
            #expect(bytes.count == 32)
            for (i, byte) in bytes.enumerated() {
                for bit in 0..<8 where byte & (1 << bit) != 0 { bitCounts[i * 8 + bit] += 1 }
            }
        }
        #expect(seen.count == 20_000)
        // Every one of the 256 bits is set about half the time (expected 10,000, σ ≈ 71).
        #expect(bitCounts.allSatisfy { (9_500...10_500).contains($0) }, "a biased bit: \(bitCounts.min()!)…\(bitCounts.max()!)")
    }

    @Test("a well-formed token the gateway never minted gets no session and no jar, and is not stored")
    func unknownTokenNotAdopted() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(headers: [("Set-Cookie", "sid=s1; Path=/")]) }
        let store = MemorySessionStore()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])], store: store)
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        for _ in 0..<20 {
            let guess = SessionToken.mint()
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", guess)])
            let minted = try #require(r.headers.first(name: "X-Session-Token"))
            #expect(minted != guess)
            #expect(backend.requests.last?.headers.first(name: "cookie") == nil, "a guessed token carried a jar")
            #expect(try await store.load(SessionToken.hash(guess), now: Int64(Date().timeIntervalSince1970), on: testGroup.any()).get() == nil)
        }
    }

    @Test("revoked and expired sessions never carry their jar to the backend again")
    func revokedAndExpired() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            req.uri == "/set" ? BackendResponse(headers: [("Set-Cookie", "JSESSIONID=secret-j; Path=/")]) : BackendResponse()
        }
        let clock = ManualGatewayClock()
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])],
            configure: { $0.timeouts = SessionTimeouts(idle: 600, absolute: 10_000, touchInterval: 60) },
            endpoints: EndpointHookTests.FixedLogin(), clock: clock)
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        func get(_ path: String, _ token: String) async throws -> ClientResponse {
            try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: path, headers: [("X-Session-Token", token)])
        }

        // Revoked (logout).
        let first = try #require(try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/set").headers.first(name: "X-Session-Token"))
        _ = try await get("/", first)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "JSESSIONID=secret-j")
        let logout = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, method: .POST, path: "/_tokenjar/logout", headers: [("X-Session-Token", first)], body: "")
        #expect(logout.status == .ok)
        let afterLogout = try await get("/", first)
        #expect(afterLogout.headers.first(name: "X-Session-Token") != first)
        #expect(backend.requests.last?.headers.first(name: "cookie") == nil, "a revoked token carried its jar")

        // Expired (idle past the timeout).
        let second = try #require(try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/set").headers.first(name: "X-Session-Token"))
        _ = try await get("/", second)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "JSESSIONID=secret-j")
        clock.advance(seconds: 601)
        let afterExpiry = try await get("/", second)
        #expect(afterExpiry.headers.first(name: "X-Session-Token").map { $0 != second } == true)
        #expect(backend.requests.last?.headers.first(name: "cookie") == nil, "an expired token carried its jar")
    }

    @Test("no token and no cookie value is ever logged: minting, jar updates, login, logout, backend and store errors")
    func tokensNeverLogged() async throws {
        let secretCookie = "c00kie-VALUE-never-logged"
        let backend = try await TestBackend.start(group: testGroup) { req in
            BackendResponse(headers: [("Set-Cookie", "JSESSIONID=\(secretCookie)-\(req.uri.count); Path=/")])
        }
        let log = CapturedLog()
        let store = FaultInjectingStore(wrapping: MemorySessionStore())
        let gateway = try await RunningGateway.start(
            routes: [
                RouteSpec(name: "dead", pathPrefix: "/dead", upstreams: [upstream(ProxyErrorTests.refusingPort)]),
                RouteSpec(upstreams: [upstream(backend.port)]),
            ],
            store: store,
            configure: { $0.proxy.accessLog = true },
            logger: log.logger(), endpoints: EndpointHookTests.FixedLogin())
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        var tokens: [String] = []
        func call(_ method: HTTPMethod = .GET, _ path: String, _ token: String?, body: String? = nil) async throws -> ClientResponse {
            let r = try await TestHTTPClient.request(
                group: testGroup, port: gateway.port, method: method, path: path,
                headers: token.map { [("X-Session-Token", $0), ("Cookie", "client=\(secretCookie)")] } ?? [], body: body)
            if let minted = r.headers.first(name: "X-Session-Token") { tokens.append(minted) }
            return r
        }

        let anonymous = try await call(.GET, "/start", nil).headers.first(name: "X-Session-Token")
        _ = try await call(.GET, "/again", anonymous)
        let login = try await call(.POST, "/_tokenjar/login", anonymous, body: "o-123")
        let member = try #require(login.headers.first(name: "X-Session-Token"))
        _ = try await call(.GET, "/member", member)
        #expect(try await call(.GET, "/dead", member).status == .badGateway)
        _ = try await call(.GET, "/x", String(repeating: "A", count: 43))
        _ = try await call(.GET, "/x", "not-a-token")
        store.isFailing = true
        #expect(try await call(.GET, "/down", member).status == .serviceUnavailable)
        #expect(try await call(.GET, "/down", nil).status == .serviceUnavailable)
        store.isFailing = false
        _ = try await call(.POST, "/_tokenjar/logout", member, body: "")
        _ = try await call(.GET, "/after", member)

        let lines = log.all
        #expect(lines.contains { $0.contains("access") }, "the access log was captured")
        #expect(lines.contains { $0.contains("backend unreachable") })
        #expect(tokens.count >= 3)
        for line in lines {
            for token in tokens { #expect(!line.contains(token), "a token in the log: \(line)") }
            #expect(!line.contains(secretCookie), "a cookie value in the log: \(line)")
            #expect(!line.contains(String(repeating: "A", count: 43)), "a client-sent token in the log: \(line)")
        }
    }
}
