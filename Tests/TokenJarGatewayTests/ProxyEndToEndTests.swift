import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// End-to-end: real HTTP over loopback, client → gateway → in-process backend.
@Suite("Proxy end to end")
struct ProxyEndToEndTests {
    @Test("a request without a token gets a fresh token; a client-chosen token is never adopted")
    func minting() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        let first = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(first.status == .ok)
        let token = try #require(first.headers.first(name: "X-Session-Token"))
        #expect(SessionToken.isWellFormed(token))

        let chosen = String(repeating: "A", count: SessionToken.length)
        let second = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", chosen)])
        let minted = try #require(second.headers.first(name: "X-Session-Token"))
        #expect(minted != chosen)
        #expect(minted != token)

        // A known token is kept: no new token in the answer.
        let third = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
        #expect(third.headers.first(name: "X-Session-Token") == nil)
        // The backend never sees the token header.
        #expect(backend.requests.allSatisfy { $0.headers.first(name: "x-session-token") == nil })
    }

    @Test("cookies set by the backend come back on the next request, and Set-Cookie is hidden")
    func jarInjection() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            switch req.uri {
            case "/login": BackendResponse(headers: [("Set-Cookie", "PHPSESSID=abc123; Path=/; HttpOnly")])
            case "/folded": BackendResponse(headers: [("set-cookie", "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/, b=2; Path=/")])
            case "/logout": BackendResponse(headers: [("Set-Cookie", "PHPSESSID=deleted; Max-Age=0; Path=/")])
            case "/scoped": BackendResponse(headers: [("Set-Cookie", "only=app; Path=/app")])
            default: BackendResponse()
            }
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        func get(_ path: String, _ token: String? = nil) async throws -> ClientResponse {
            try await TestHTTPClient.request(
                group: testGroup, port: gateway.port, path: path,
                headers: token.map { [("X-Session-Token", $0)] } ?? [])
        }

        let login = try await get("/login")
        #expect(login.headers["set-cookie"].isEmpty)
        let token = try #require(login.headers.first(name: "X-Session-Token"))
        _ = try await get("/", token)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "PHPSESSID=abc123")

        _ = try await get("/folded", token)
        _ = try await get("/", token)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "PHPSESSID=abc123; a=1; b=2")

        _ = try await get("/scoped", token)
        _ = try await get("/app/page", token)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "only=app; PHPSESSID=abc123; a=1; b=2")
        _ = try await get("/other", token)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "PHPSESSID=abc123; a=1; b=2")

        _ = try await get("/logout", token)
        _ = try await get("/", token)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "a=1; b=2")
    }

    @Test("hop-by-hop headers, the token and spoofed identity headers never reach the backend")
    func hopByHop() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in
            BackendResponse(headers: [("Connection", "X-Backend-Hop"), ("X-Backend-Hop", "1"), ("Keep-Alive", "timeout=5"), ("X-Kept", "yes")])
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let response = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, path: "/",
            headers: [
                ("Connection", "keep-alive, X-Custom-Hop"), ("X-Custom-Hop", "secret"), ("Keep-Alive", "timeout=5"),
                ("TE", "trailers"), ("Trailer", "X-T"), ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
                ("Proxy-Connection", "keep-alive"), ("Upgrade", "websocket"),
                ("X-WX-OpenID", "spoofed"), ("x-wx-unionid", "spoofed"), ("X-Forwarded-For", "10.9.8.7"),
                ("X-Forwarded-Proto", "https"), ("X-End-To-End", "kept"),
            ])
        #expect(response.status == .ok)
        let seen = try #require(backend.requests.last).headers
        for name in ["connection", "x-custom-hop", "keep-alive", "te", "trailer", "proxy-authorization",
                     "proxy-connection", "upgrade", "x-wx-openid", "x-wx-unionid", "x-session-token"] {
            #expect(seen[name].isEmpty, "\(name) reached the backend")
        }
        #expect(seen.first(name: "x-end-to-end") == "kept")
        #expect(seen.first(name: "x-forwarded-for") == "10.9.8.7, 127.0.0.1")
        #expect(seen.first(name: "x-forwarded-proto") == "http")
        #expect(seen.first(name: "x-forwarded-host") == "127.0.0.1:\(gateway.port)")
        // and on the way back
        #expect(response.headers["x-backend-hop"].isEmpty)
        #expect(response.headers["keep-alive"].isEmpty)
        #expect(response.headers.first(name: "x-kept") == "yes")
    }

    @Test("30 concurrent requests of one token, each setting its own cookie, are all kept")
    func concurrentCookies() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            guard req.uri.hasPrefix("/set/") else { return BackendResponse() }
            let n = req.uri.dropFirst(5)
            return BackendResponse(headers: [("Set-Cookie", "c\(n)=v\(n); Path=/")], delay: .milliseconds(Int64.random(in: 0...20)))
        }
        let store = MemorySessionStore()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])], store: store)
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let token = try #require(try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
            .headers.first(name: "X-Session-Token"))
        try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { tasks in
            for i in 0..<30 {
                tasks.addTask {
                    try await TestHTTPClient.request(
                        group: testGroup, port: gateway.port, path: "/set/\(i)", headers: [("X-Session-Token", token)]).status
                }
            }
            for try await status in tasks { #expect(status == .ok) }
        }
        _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
        let cookie = try #require(backend.requests.last?.headers.first(name: "cookie"))
        let names = Set(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).split(separator: "=")[0] })
        #expect(names == Set((0..<30).map { Substring("c\($0)") }))
        let record = try #require(try await store.load(SessionToken.hash(token), now: Int64(Date().timeIntervalSince1970), on: testGroup.any()).get())
        #expect(record.cookies.count == 30)
    }

    @Test("a client Cookie header is merged (the jar wins) or dropped, per route")
    func clientCookiePolicy() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            req.uri == "/login" ? BackendResponse(headers: [("Set-Cookie", "sid=jar; Path=/")]) : BackendResponse()
        }
        let gateway = try await RunningGateway.start(routes: [
            RouteSpec(name: "dropping", pathPrefix: "/drop", upstreams: [upstream(backend.port)], dropClientCookies: true),
            RouteSpec(upstreams: [upstream(backend.port)]),
        ])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let token = try #require(try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/login")
            .headers.first(name: "X-Session-Token"))
        _ = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token), ("Cookie", "x=1, sid=evil;y=2")])
        #expect(backend.requests.last?.headers.first(name: "cookie") == "sid=jar; x=1; y=2")
        _ = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, path: "/drop/it", headers: [("X-Session-Token", token), ("Cookie", "x=1")])
        #expect(backend.requests.last?.headers.first(name: "cookie") == "sid=jar")
    }

    @Test("Set-Cookie passes through to the client on a route that asks for it")
    func setCookiePass() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in
            BackendResponse(headers: [("Set-Cookie", "a=1; Path=/")])
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)], passSetCookie: true)])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.headers["set-cookie"] == ["a=1; Path=/"])
    }

    @Test("mint: never answers 401 with a stable code for a missing or unknown token")
    func mintNever() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)], mintTokens: false)])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.status == .unauthorized)
        #expect(response.body.contains(#""code":"token_required""#))
        #expect(response.headers.first(name: "content-type")?.hasPrefix("application/json") == true)
        #expect(backend.requests.isEmpty)
    }
}
