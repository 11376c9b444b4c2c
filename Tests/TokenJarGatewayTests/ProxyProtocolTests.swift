import NIOCore
import NIOHTTP1
import Testing
@testable import TokenJarGateway

/// HTTP/1.x details through the gateway: HEAD, HTTP/1.0, pipelining, 100-continue, forwarded scheme.
@Suite("Proxy protocol details")
struct ProxyProtocolTests {
    static func backend() async throws -> TestBackend {
        try await TestBackend.start(group: testGroup) { req in
            BackendResponse(
                headers: [("Set-Cookie", "s=1; Path=/; Secure"), ("X-Seen-Cookie", req.headers.first(name: "cookie") ?? "-")],
                body: "body:" + req.uri)
        }
    }

    @Test("HEAD gets the head without a body, and the connection stays usable")
    func head() async throws {
        let backend = try await Self.backend()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let raw = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port,
            "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let responses = raw.components(separatedBy: "HTTP/1.1 200 OK")
        #expect(responses.count == 3, "two responses on one connection")
        #expect(!responses[1].contains("body:/a"))
        #expect(responses[2].contains("body:/b"))
    }

    @Test("pipelined requests are answered in order")
    func pipelining() async throws {
        let backend = try await Self.backend()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let requests = (1...5).map { "GET /p\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
            + "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        let raw = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, requests)
        let order = ["/p1", "/p2", "/p3", "/p4", "/p5", "/last"].map { raw.range(of: "body:" + $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
    }

    @Test("a pipelined burst larger than the read-ahead budget is answered whole and in order")
    func pipelinedBurst() async throws {
        let backend = try await Self.backend()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        // About 380 bytes a request: 160 of them are over three times ClientReadAhead's budget.
        let padding = String(repeating: "p", count: 340)
        let count = 160
        let requests = (1...count).map { "GET /b\($0) HTTP/1.1\r\nHost: x\r\nX-Pad: \(padding)\r\n\r\n" }.joined()
            + "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        #expect(requests.utf8.count > 3 * ClientReadAhead().budget)
        let raw = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, requests, timeout: .seconds(20))
        // Each body is followed by the next response's status line.
        let order = ((1...count).map { "/b\($0)HTTP/1.1" } + ["/last"]).map { raw.range(of: "body:" + $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
        #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == count + 2)
    }

    @Test("an HTTP/1.0 client gets its answer and the connection closes")
    func http10() async throws {
        let backend = try await Self.backend()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let raw = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, "GET /old HTTP/1.0\r\n\r\n", timeout: .seconds(5))
        #expect(raw.hasPrefix("HTTP/1.0 200 OK"))
        #expect(raw.contains("body:/old"))
    }

    @Test("Expect: 100-continue gets its interim answer and the body goes through")
    func expectContinue() async throws {
        let backend = try await Self.backend()
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let raw = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port,
            "POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        #expect(raw.contains("body:/up"))
        #expect(backend.requests.last?.body == "hello")
    }

    @Test("Secure cookies follow the scheme: config, or a trusted X-Forwarded-Proto only")
    func forwardedProto() async throws {
        let backend = try await Self.backend()
        let untrusting = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        let trusting = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], configure: { $0.proxy.trustForwardedProto = true })
        defer { Task { try? await untrusting.stop(); try? await trusting.stop(); await backend.stop() } }
        for (gateway, expected) in [(untrusting, "-"), (trusting, "s=1")] {
            // A public host name: browsers treat loopback hosts as secure whatever the scheme.
            let https = [("X-Forwarded-Proto", "https"), ("Host", "shop.example.com")]
            let first = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: https)
            let token = try #require(first.headers.first(name: "X-Session-Token"))
            let second = try await TestHTTPClient.request(
                group: testGroup, port: gateway.port, path: "/", headers: https + [("X-Session-Token", token)])
            #expect(second.headers.first(name: "x-seen-cookie") == expected)
            #expect(backend.requests.last?.headers.first(name: "x-forwarded-proto") == (expected == "-" ? "http" : "https"))
        }
    }
}
