import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// Backends that misbehave: header values that would split or extend the client's response,
/// bodies cut short around the jar commit, and answers slower than the route allows.
@Suite("Hostile and failing backends")
struct HostileBackendTests {
    /// Response heads whose header value holds CR, LF or NUL; each tries to smuggle `Injected`.
    static let badHeads: [(String, String)] = [
        ("a bare CR", "X-A: a\rInjected: 1\r\n"),
        ("a bare LF", "X-A: a\nInjected: 1\r\n"),
        ("obsolete line folding", "X-A: a\r\n Injected: 1\r\n"),
        ("a folded line with a tab", "X-A: a\r\n\tInjected: 1\r\n"),
        ("a NUL", "X-A: a\u{0}Injected: 1\r\n"),
        ("a bare CR in Set-Cookie", "Set-Cookie: s=1\rInjected: 1\r\n"),
    ]

    @Test("a backend header holding CR, LF or NUL never reaches the client: 502 upstream_invalid_response", arguments: badHeads.indices)
    func headerInjectionRefused(_ index: Int) async throws {
        let (name, header) = Self.badHeads[index]
        let backend = try await RawBackend.start { _ in
            Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\(header)\r\nok".utf8)
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let answer = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(3))
        #expect(answer.hasPrefix("HTTP/1.1 502"), "\(name): \(answer.prefix(80))")
        #expect(answer.contains(#""code":"upstream_invalid_response""#), "\(name)")
        #expect(!answer.lowercased().contains("injected"), "\(name) reached the client")
        #expect(!answer.contains("X-A"), "\(name): the header was forwarded")
        // A response the gateway refused is not retried: the backend saw the request once.
        #expect(backend.requestCount == 1, "\(name)")
    }

    @Test("clean backend headers still pass (the check refuses only CR, LF and NUL)")
    func cleanHeadersPass() async throws {
        let backend = try await RawBackend.start { _ in
            Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: a\tb \"c\" é\r\n\r\nok".utf8)
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.status == .ok)
        #expect(response.headers.first(name: "x-a") == "a\tb \"c\" é")
    }

    /// The body arriving while the jar write commits is held (the backend's socket stays read)
    /// up to a bound, then the backend is read no further until the write has committed.
    @Test("a body larger than the held bound, arriving during a slow jar write, reaches the client whole",
          arguments: [10_000, 1_000_000])
    func bodyDuringSlowCommit(size: Int) async throws {
        let body = String((0..<size).map { _ in "abcdefghij".randomElement()! })
        let raw = try await RawBackend.start { _ in
            Array("HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\nSet-Cookie: a=1; Path=/\r\n\r\n\(body)".utf8)
        }
        let store = FaultInjectingStore(wrapping: MemorySessionStore(), writeDelay: .milliseconds(300))
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(raw.port)])], store: store)
        defer { Task { try? await gateway.stop(); await raw.stop() } }
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.status == .ok)
        #expect(response.body.utf8.count == size)
        #expect(response.body == body)
        #expect(response.headers.first(name: "X-Session-Token") != nil)
    }

    /// A chunked body cut by the backend, with the jar commit instant or slower than the cut.
    @Test("a backend reset mid-body (chunked) aborts the client connection; the jar holds all of the head's cookies or none",
          arguments: [0, 300])
    func chunkedResetMidBody(commitDelayMillis: Int) async throws {
        let raw = try await RawBackend.start(closeAfter: true) { _ in
            Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1; Path=/\r\n"
                + "Set-Cookie: b=2; Path=/\r\nSet-Cookie: c=3; Path=/\r\n\r\n5\r\nhello\r\n").utf8)
        }
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let store = FaultInjectingStore(wrapping: MemorySessionStore(), writeDelay: .milliseconds(Int64(commitDelayMillis)))
        let gateway = try await RunningGateway.start(
            routes: [
                RouteSpec(name: "cut", pathPrefix: "/cut", upstreams: [upstream(raw.port)]),
                RouteSpec(upstreams: [upstream(backend.port)]),
            ],
            store: store)
        defer { Task { try? await gateway.stop(); await backend.stop(); await raw.stop() } }

        let first = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        let token = try #require(first.headers.first(name: "X-Session-Token"))
        let answer = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port, "GET /cut HTTP/1.1\r\nHost: x\r\nX-Session-Token: \(token)\r\n\r\n",
            timeout: .seconds(3))
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.contains("hello"))
        // No last chunk: the client cannot take the truncated body for a whole one.
        #expect(!answer.hasSuffix("0\r\n\r\n"), "the truncated body was ended cleanly: \(answer.suffix(20).debugDescription)")

        _ = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
        let cookie = backend.requests.last?.headers.first(name: "cookie")
        #expect(cookie == "a=1; b=2; c=3" || cookie == nil, "all of one response's cookies, or none: \(cookie ?? "-")")
    }

    @Test("a backend slower than the response timeout: 504 at the deadline, not before and not much after")
    func timeoutWindow() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(delay: .seconds(3)) }
        let gateway = try await RunningGateway.start(routes: [
            RouteSpec(upstreams: [upstream(backend.port)], responseTimeout: .milliseconds(500)),
        ])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let start = ContinuousClock.now
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        let elapsed = ContinuousClock.now - start
        #expect(response.status == .gatewayTimeout)
        #expect(response.body.contains(#""code":"upstream_timeout""#))
        #expect(elapsed >= .milliseconds(500), "answered before the deadline: \(elapsed)")
        // The backend answers after 3 s: anything well below that is the gateway's deadline; the
        // slack is for a loaded two-core machine running the whole suite in parallel.
        #expect(elapsed < .milliseconds(1_500), "answered long after the deadline: \(elapsed)")
    }

    @Test("a backend that accepts and closes without answering: 502 JSON at once, not at a deadline")
    func closesWithoutAnswer() async throws {
        let backend = try await RawBackend.start(closeAfter: true) { _ in [] }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let start = ContinuousClock.now
        let response = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(response.status == .badGateway)
        #expect(response.body.contains(#""code":"upstream_"#))
        // The route's response timeout is 30 s: well under it, the close itself was noticed.
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}

/// NIO's parser already refuses such heads from a backend (above); the gateway's own check is
/// the second line, for a decoder that would let one through.
@Suite("Backend header check")
struct ForbiddenHeaderBytesTests {
    @Test("CR, LF or NUL anywhere in a name or a value is caught; everything else passes")
    func check() {
        for bad in ["a\rb", "a\nb", "a\r\n b", "a\u{0}b", "\r", "\n"] {
            #expect(ResponseRewriter.hasForbiddenBytes(HTTPHeaders([("X-A", bad)])), "\(bad.debugDescription)")
            #expect(ResponseRewriter.hasForbiddenBytes(HTTPHeaders([("Ok", "1"), ("X\(bad)", "v")])))
        }
        #expect(!ResponseRewriter.hasForbiddenBytes(HTTPHeaders([("X-A", "a\tb \"c\" é ~\u{7f}"), ("Set-Cookie", "a=1; Path=/")])))
        #expect(!ResponseRewriter.hasForbiddenBytes(HTTPHeaders()))
    }

    @Test("the byte scan finds CR, LF and NUL at any position of short and long text, and nothing else")
    func byteScan() {
        for b in UInt8.min...0x7F {
            for position in 0..<3 {
                var bytes = Array("abc".utf8)
                bytes[position] = b
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(ResponseRewriter.holdsCRLFOrNUL(text) == (b == 0 || b == 0x0A || b == 0x0D), "byte \(b) at \(position)")
            }
        }
        // Every position of the eight-byte words and of the tail, on backgrounds of bytes next to
        // the forbidden ones (a borrow between bytes must not count as a find).
        for background: UInt8 in [0x01, 0x0B, 0x0C, 0x0E, 0x61, 0x7F] {
            for b in UInt8.min...0x7F {
                for position in 0..<19 {
                    var bytes = [UInt8](repeating: background, count: 19)
                    bytes[position] = b
                    let text = String(decoding: bytes, as: UTF8.self)
                    #expect(ResponseRewriter.holdsCRLFOrNUL(text) == (b == 0 || b == 0x0A || b == 0x0D))
                }
            }
        }
        let long = String(repeating: "v", count: 4096)
        #expect(!ResponseRewriter.holdsCRLFOrNUL(long))
        #expect(ResponseRewriter.holdsCRLFOrNUL(long + "\n"))
        #expect(ResponseRewriter.holdsCRLFOrNUL("\u{0}" + long))
        #expect(!ResponseRewriter.holdsCRLFOrNUL("caf\u{E9} \u{1F36A}"))
    }
}
