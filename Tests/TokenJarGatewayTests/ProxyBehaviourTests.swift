import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// Routing details, timeouts, pass-through guarantees, session lifetimes and graceful drain.
@Suite("Proxy behaviour")
struct ProxyBehaviourTests {
    @Test("a stripped prefix and a base path shape the path the backend sees, and cookies follow it")
    func stripPrefixAndBasePath() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            req.uri.hasPrefix("/app/login") ? BackendResponse(headers: [("Set-Cookie", "sid=1; Path=/app")]) : BackendResponse()
        }
        let gateway = try await RunningGateway.start(routes: [
            RouteSpec(pathPrefix: "/api", stripPrefix: true, upstreams: [Upstream(host: "127.0.0.1", port: backend.port, basePath: "/app")]),
        ])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let login = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/api/login?next=%2F")
        #expect(backend.requests.last?.uri == "/app/login?next=%2F")
        let token = try #require(login.headers.first(name: "X-Session-Token"))
        _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/api", headers: [("X-Session-Token", token)])
        #expect(backend.requests.last?.uri == "/app/")
        #expect(backend.requests.last?.headers.first(name: "cookie") == "sid=1")
    }

    @Test("a backend body that stalls past the body-idle timeout aborts the client connection")
    func bodyIdleTimeout() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "partial", stallMidBody: true) }
        let gateway = try await RunningGateway.start(routes: [
            RouteSpec(upstreams: [upstream(backend.port)], bodyIdleTimeout: .milliseconds(300)),
        ])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let start = ContinuousClock.now
        await #expect(throws: (any Error).self) {
            _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        }
        // The route's response timeout is 30 s: an abort within a few seconds is the idle timeout.
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("a backend reset mid-body aborts the client connection; the jar update of its head is whole")
    func resetMidBody() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            req.uri == "/reset"
                ? BackendResponse(headers: [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")], body: "partial", resetMidBody: true)
                : BackendResponse()
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let token = try #require(try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/").headers.first(name: "X-Session-Token"))
        await #expect(throws: (any Error).self) {
            _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/reset", headers: [("X-Session-Token", token)])
        }
        _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
        let cookie = backend.requests.last?.headers.first(name: "cookie")
        #expect(cookie == "a=1; b=2" || cookie == nil, "both cookies of one response, or neither")
    }

    @Test("redirects are passed to the client, never followed, and encoded bodies pass untouched")
    func redirectsAndEncodings() async throws {
        let gzipped = "\u{1f}\u{8b}not-really-gzip"
        let backend = try await TestBackend.start(group: testGroup) { req in
            req.uri == "/moved"
                ? BackendResponse(status: .found, headers: [("Location", "/elsewhere")], body: "")
                : BackendResponse(headers: [("Content-Encoding", "gzip")], body: gzipped)
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let moved = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/moved")
        #expect(moved.status == .found)
        #expect(moved.headers.first(name: "location") == "/elsewhere")
        #expect(backend.requests.count == 1)
        let encoded = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/data", headers: [("Accept-Encoding", "gzip")])
        #expect(encoded.headers.first(name: "content-encoding") == "gzip")
        #expect(encoded.body == gzipped)
        #expect(backend.requests.last?.headers.first(name: "accept-encoding") == "gzip")
    }

    @Test("a session idle past its timeout, or past its absolute lifetime, is replaced by a new one")
    func sessionLifetimes() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let clock = ManualGatewayClock()
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])],
            configure: { $0.timeouts = SessionTimeouts(idle: 600, absolute: 1_000, touchInterval: 60) },
            clock: clock)
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        func get(_ token: String?) async throws -> String? {
            try await TestHTTPClient.request(
                group: testGroup, port: gateway.port, path: "/", headers: token.map { [("X-Session-Token", $0)] } ?? []
            ).headers.first(name: "X-Session-Token")
        }
        let token = try #require(try await get(nil))
        clock.advance(seconds: 500)
        #expect(try await get(token) == nil, "within the idle timeout")
        clock.advance(seconds: 400)
        #expect(try await get(token) == nil, "the last request renewed the idle deadline")
        clock.advance(seconds: 200)
        let replaced = try await get(token)
        #expect(replaced != nil && replaced != token, "past the absolute lifetime of 1000 s")
        let fresh = try #require(replaced)
        clock.advance(seconds: 601)
        #expect(try await get(fresh) != nil, "idle for longer than 600 s")
    }

    @Test("graceful shutdown lets an in-flight request finish, then stops")
    func gracefulDrain() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "slow", delay: .seconds(2)) }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { await backend.stop() } }
        async let slow = TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        // Stops only once the request is in flight, however slow the machine.
        let deadline = ContinuousClock.now + .seconds(10)
        while gateway.server.inFlight == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(gateway.server.inFlight == 1)
        try await gateway.stop()
        let response = try await slow
        #expect(response.status == .ok)
        #expect(response.body == "slow")
        await #expect(throws: (any Error).self) {
            _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        }
    }
}
