import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
@testable import TokenJarGateway

/// Connection limits, the request-head timeout, and the benchmark-only token adoption.
@Suite("Proxy limits")
struct ProxyLimitTests {
    @Test("a client that does not finish its request head in time is disconnected (slowloris)")
    func headerReadTimeout() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], configure: { $0.headerReadTimeout = .milliseconds(800) })
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let start = ContinuousClock.now
        let answer = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", timeout: .seconds(5))
        #expect(answer.isEmpty)
        #expect(ContinuousClock.now - start < .seconds(2), "closed by the gateway, not by the client's own timeout")
        #expect(backend.requests.isEmpty)
        // An idle keep-alive connection is closed after the same wait.
        // (800 ms, not less: on a loaded machine the client's request can take a few hundred
        // milliseconds to arrive after the connection is accepted.)
        let idle = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(5))
        #expect(idle.hasPrefix("HTTP/1.1 200 OK"))
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("connections over the limit are closed at once; the ones within it are served")
    func connectionLimit() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], configure: { $0.maxConnections = 2 })
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        var held: [any Channel] = []
        for _ in 0..<2 {
            held.append(try await ClientBootstrap(group: testGroup).connect(host: "127.0.0.1", port: gateway.port).get())
        }
        try await Task.sleep(for: .milliseconds(100))
        let refused = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(3))
        #expect(refused.isEmpty, "a third connection gets nothing")
        for channel in held { try await channel.close() }
        try await Task.sleep(for: .milliseconds(100))
        let served = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(served.status == .ok)
    }

    @Test("adopt_client_tokens (benchmarks only) keys a jar by the client's own token, and is off by default")
    func adoption() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in
            BackendResponse(headers: [("Set-Cookie", "pref=dark; Path=/")])
        }
        let adopting = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], configure: { $0.proxy.adoptClientTokens = true })
        defer { Task { try? await adopting.stop(); await backend.stop() } }
        let first = try await TestHTTPClient.request(group: testGroup, port: adopting.port, path: "/", headers: [("X-Session-Token", "tok-000001")])
        #expect(first.headers.first(name: "X-Session-Token") == nil)
        #expect(backend.requests.last?.headers.first(name: "cookie") == nil)
        _ = try await TestHTTPClient.request(group: testGroup, port: adopting.port, path: "/", headers: [("X-Session-Token", "tok-000001")])
        #expect(backend.requests.last?.headers.first(name: "cookie") == "pref=dark")
        _ = try await TestHTTPClient.request(group: testGroup, port: adopting.port, path: "/", headers: [("X-Session-Token", "tok-000002")])
        #expect(backend.requests.last?.headers.first(name: "cookie") == nil, "jars stay separate")
        #expect(!ProxySettings().adoptClientTokens)
    }
}
