import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
@testable import TokenJarGateway

/// The gateway's own answers: JSON bodies with stable codes, and failover between instances.
@Suite("Proxy errors and failover")
struct ProxyErrorTests {
    /// A loopback port that refuses connections: bound but never listening, and held for the
    /// life of the test process so no other test can take it.
    static let refusingPort: Int = {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }()

    @Test("an unreachable backend gives 502 upstream_unreachable, quickly")
    func badGateway() async throws {
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(Self.refusingPort)])])
        defer { Task { try? await gateway.stop() } }
        let start = ContinuousClock.now
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.status == .badGateway)
        #expect(response.body.contains(#""code":"upstream_unreachable""#))
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("a backend slower than the response timeout gives 504 upstream_timeout")
    func gatewayTimeout() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(delay: .seconds(2)) }
        let gateway = try await RunningGateway.start(routes: [
            RouteSpec(upstreams: [upstream(backend.port)], responseTimeout: .milliseconds(300)),
        ])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let start = ContinuousClock.now
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.status == .gatewayTimeout)
        #expect(response.body.contains(#""code":"upstream_timeout""#))
        #expect(ContinuousClock.now - start < .seconds(1.5))
    }

    @Test("a body over the limit gives 413 and is not forwarded, by Content-Length or by counting")
    func payloadTooLarge() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)], maxBodyBytes: 100)])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let big = String(repeating: "x", count: 500)
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, method: .POST, path: "/", body: big)
        #expect(response.status == .payloadTooLarge)
        #expect(response.body.contains(#""code":"body_too_large""#))
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + String(repeating: "y", count: 100)
            + "\r\n64\r\n" + String(repeating: "y", count: 100) + "\r\n0\r\n\r\n"
        let raw = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, chunked)
        #expect(raw.hasPrefix("HTTP/1.1 413"))
        #expect(backend.requests.allSatisfy { $0.body.utf8.count <= 100 })
        let small = try await TestHTTPClient.request(group: testGroup, port: gateway.port, method: .POST, path: "/", body: "tiny")
        #expect(small.status == .ok)
        #expect(backend.requests.last?.body == "tiny")
    }

    @Test("unknown gateway endpoints and unrouted paths answer 404 JSON")
    func notFound() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(pathPrefix: "/api", upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let reserved = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/_tokenjar/nothing")
        #expect(reserved.status == .notFound)
        #expect(reserved.body.contains(#""code":"not_found""#))
        let unrouted = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/apix")
        #expect(unrouted.status == .notFound)
        #expect(unrouted.body.contains(#""code":"no_route""#))
        #expect(backend.requests.isEmpty)
    }

    @Test("a session sticks to one instance and fails over when that instance is down")
    func stickyFailover() async throws {
        let a = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "a") }
        let b = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "b") }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(a.port), upstream(b.port)])])
        defer { Task { try? await gateway.stop(); await b.stop() } }
        var tokens: [String: String] = [:]
        for _ in 0..<12 {
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
            tokens[try #require(r.headers.first(name: "X-Session-Token"))] = r.body
        }
        #expect(Set(tokens.values) == ["a", "b"], "rendezvous hashing spreads sessions over both instances")
        for (token, instance) in tokens {
            for _ in 0..<3 {
                let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
                #expect(r.body == instance)
            }
        }
        await a.stop()
        for (token, _) in tokens {
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
            #expect(r.status == .ok)
            #expect(r.body == "b")
        }
    }
}
