import NIOCore
import NIOHTTP1
import Testing
@testable import TokenJarGateway

/// Ambiguous or malformed HTTP/1.1 framing is refused with 400 and never forwarded.
@Suite("Request framing")
struct FramingTests {
    static let cases: [(String, String)] = [
        ("Content-Length with Transfer-Encoding",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two different Content-Length values",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nhello"),
        ("a Content-Length list",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\nhello"),
        ("obsolete line folding",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n"),
        ("a bare LF inside a header value",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\nb\r\n\r\n"),
        ("a bare CR inside a header value",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n"),
        ("an invalid chunk size",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        ("an unknown transfer coding",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello"),
        ("a NUL inside a header value",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u{0}b\r\n\r\n"),
        ("a control byte inside a header value",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u{1}b\r\n\r\n"),
        ("a DEL inside a header value",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u{7F}b\r\n\r\n"),
        ("a control byte inside a header name",
         "GET / HTTP/1.1\r\nHost: x\r\nX-B\u{1}ad: 1\r\n\r\n"),
        ("a control byte in the target",
         "GET /a\u{1}b HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a character the target must percent-encode",
         "GET /a{b} HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("non-ASCII in the target",
         "GET /caf\u{E9} HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a space before the header colon",
         "GET / HTTP/1.1\r\nHost: x\r\nX-Bad : 1\r\n\r\n"),
        ("an oversized request line",
         "GET /" + String(repeating: "a", count: 70_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("an oversized header section",
         "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Pad: " + String(repeating: "p", count: 1000) + "\r\n", count: 40) + "\r\n"),
        ("too many headers",
         "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<300).map { "X-H\($0): 1\r\n" }.joined() + "\r\n"),
    ]

    @Test("refused with 400, never forwarded", arguments: cases.indices)
    func refused(_ index: Int) async throws {
        let (name, request) = Self.cases[index]
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let answer = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, request, timeout: .seconds(3))
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(name): \(answer.prefix(60))")
        #expect(backend.requests.count == 0, "\(name) reached the backend")
    }

    @Test("after a good request on the same connection, a malformed one: the first gets its answer, then 400, and only the first is forwarded",
          arguments: [false, true])
    func malformedAfterGood(gzipRoute: Bool) async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in BackendResponse(body: "body:" + req.uri) }
        // With a gzip route the pipeline keeps NIO's protocol error handler in front of the
        // compressor; without one the proxy handler answers the parse error itself.
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)], gzip: gzipRoute)])
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        let answer = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port,
            "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nX-Bad: a\u{1}b\r\n\r\n",
            timeout: .seconds(3))
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer.prefix(60))")
        #expect(answer.contains("body:/first"))
        let second = try #require(answer.range(of: "body:/first")).upperBound
        #expect(answer[second...].contains("HTTP/1.1 400 Bad Request"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"))
        #expect(backend.requests.map(\.uri) == ["/first"])
    }
}
