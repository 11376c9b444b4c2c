import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import TokenJarGateway

/// The gateway's HTTP/1.x encoders against NIO's, byte for byte: the same parts written through
/// an `EmbeddedChannel` with NIO's encoder and with the gateway's must leave the same bytes.
@Suite("HTTP/1 encoders: NIO's bytes and framing")
struct HTTP1EncoderTests {
    static func bytes(of channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else {
                Issue.record("a file region where bytes were expected")
                continue
            }
            out += buffer.readableBytesView
        }
        return out
    }

    static func headers(_ pairs: [(String, String)]) -> HTTPHeaders { HTTPHeaders(pairs) }

    static func body(_ text: String) -> IOData { .byteBuffer(ByteBuffer(string: text)) }

    // MARK: requests

    static let requests: [(String, [HTTPClientRequestPart])] = [
        ("GET without body", [
            .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a?b=c", headers: headers([
                ("Host", "api.example.com"), ("Cookie", "a=1; b=2"), ("X-Empty", ""),
            ]))),
            .end(nil),
        ]),
        ("POST with Content-Length", [
            .head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/login", headers: headers([
                ("host", "h"), ("content-length", "5"), ("Transfer-Encoding", "chunked"),
            ]))),
            .body(body("hello")),
            .end(nil),
        ]),
        ("POST without length: chunked", [
            .head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/up", headers: headers([("host", "h")]))),
            .body(body("abc")),
            .body(body("")),
            .body(body(String(repeating: "x", count: 5000))),
            .end(headers([("X-Checksum", "1")])),
        ]),
        ("PUT with Transfer-Encoding chunked in front", [
            .head(HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/p", headers: headers([
                ("Transfer-Encoding", "chunked"), ("host", "h"),
            ]))),
            .body(body("0123456789abcdef0")),
            .end(nil),
        ]),
        ("GET with chunked body", [
            .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers([("transfer-encoding", "chunked")]))),
            .body(body("q")),
            .end(nil),
        ]),
        ("GET with a coding other than chunked", [
            .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers([("transfer-encoding", "gzip")]))),
            .end(nil),
        ]),
        ("TRACE loses its framing headers", [
            .head(HTTPRequestHead(version: .http1_1, method: .TRACE, uri: "/", headers: headers([
                ("content-length", "0"), ("transfer-encoding", "chunked"), ("host", "h"),
            ]))),
            .end(nil),
        ]),
        ("HTTP/1.0 POST without length", [
            .head(HTTPRequestHead(version: .http1_0, method: .POST, uri: "/", headers: headers([("host", "h")]))),
            .body(body("raw")),
            .end(nil),
        ]),
        ("a method NIO does not name, an odd version", [
            .head(HTTPRequestHead(
                version: HTTPVersion(major: 1, minor: 12), method: .RAW(value: "BREW"), uri: "*",
                headers: headers([("Accept-Additions", "milk")]))),
            .end(nil),
        ]),
        ("UTF-8 beyond ASCII in a value", [
            .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/é", headers: headers([("X-Name", "Zoë ☕")]))),
            .end(nil),
        ]),
    ]

    @Test("requests", arguments: requests.indices)
    func request(_ index: Int) throws {
        let (name, parts) = Self.requests[index]
        let nio = EmbeddedChannel(handler: HTTPRequestEncoder())
        let ours = EmbeddedChannel(handler: UpstreamRequestEncoder())
        for part in parts {
            try nio.writeOutbound(part)
            try ours.writeOutbound(part)
        }
        let expected = try Self.bytes(of: nio)
        #expect(expected.count > 0)
        #expect(try Self.bytes(of: ours) == expected, "\(name)")
    }

    // MARK: responses

    /// A request the client sent, then the response parts the server writes for it.
    typealias Exchange = (request: String, response: [HTTPServerResponsePart])

    static func head(_ status: HTTPResponseStatus, _ pairs: [(String, String)], version: HTTPVersion = .http1_1)
        -> HTTPServerResponsePart
    {
        .head(HTTPResponseHead(version: version, status: status, headers: headers(pairs)))
    }

    static let get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"

    static let responses: [(String, [Exchange])] = [
        ("200 with Content-Length", [(get, [
            head(.ok, [("Content-Length", "2"), ("Set-Cookie", "a=1"), ("X-Token", "t")]), .body(body("ok")), .end(nil),
        ])]),
        ("200 without length: chunked added", [(get, [
            head(.ok, [("content-type", "text/plain")]), .body(body("a")), .body(body(String(repeating: "b", count: 3000))),
            .end(headers([("x-trailer", "1")])),
        ])]),
        ("chunked from the backend stays chunked", [(get, [
            head(.ok, [("Transfer-Encoding", "chunked"), ("x", "y")]), .body(body("abc")), .end(nil),
        ])]),
        ("Content-Length wins over Transfer-Encoding", [(get, [
            head(.ok, [("transfer-encoding", "chunked"), ("content-length", "1")]), .body(body("z")), .end(nil),
        ])]),
        ("204 and 304 lose their framing headers", [
            (get, [head(.noContent, [("content-length", "0")]), .end(nil)]),
            (get, [head(.notModified, [("transfer-encoding", "chunked"), ("etag", "\"x\"")]), .end(nil)]),
        ]),
        ("HTTP/1.0 client: no chunks", [("GET / HTTP/1.0\r\n\r\n", [
            head(.ok, [("a", "b")], version: .http1_0), .body(body("raw")), .end(nil),
        ])]),
        ("HEAD keeps framing headers, carries no body, then a pipelined GET", [
            ("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", [head(.ok, [("content-length", "12")]), .end(nil)]),
            ("HEAD /c HTTP/1.1\r\nHost: h\r\n\r\n", [head(.ok, [("x", "1")]), .end(nil)]),
            (get, [head(.ok, []), .body(body("after")), .end(nil)]),
        ]),
        ("CONNECT loses framing headers", [("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", [
            head(.ok, [("content-length", "0")]), .end(nil),
        ])]),
        ("interim 100 before the final head", [("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", [
            head(.continue, []), head(.created, [("location", "/n")]), .body(body("made")), .end(nil),
        ])]),
        ("custom and unknown statuses", [
            (get, [head(.custom(code: 299, reasonPhrase: "Fine Enough"), [("content-length", "0")]), .end(nil)]),
            (get, [head(HTTPResponseStatus(statusCode: 599), [("content-length", "0")]), .end(nil)]),
            (get, [head(.custom(code: 200, reasonPhrase: "OK"), [("content-length", "0")], version: .http1_0), .end(nil)]),
        ]),
    ]

    static func serverChannel(ours: Bool) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let pipeline = channel.pipeline.syncOperations
        if ours {
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try pipeline.addHandler(ClientResponseEncoder())
            try pipeline.addHandler(HTTPServerPipelineHandler())
        } else {
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false)
        }
        return channel
    }

    @Test("responses", arguments: responses.indices)
    func response(_ index: Int) throws {
        let (name, exchanges) = Self.responses[index]
        var results: [[UInt8]] = []
        for ours in [false, true] {
            let channel = try Self.serverChannel(ours: ours)
            // All requests first (pipelined), then the answers in order.
            try channel.writeInbound(ByteBuffer(string: exchanges.map(\.request).joined()))
            for exchange in exchanges {
                for part in exchange.response { try channel.writeOutbound(part) }
            }
            results.append(try Self.bytes(of: channel))
        }
        #expect(results[0].count > 0)
        #expect(results[1] == results[0], "\(name)")
    }

    @Test("a body written for a HEAD request fails its write, as NIO's encoder does")
    func bodyAfterHead() throws {
        let channel = try Self.serverChannel(ours: true)
        try channel.writeInbound(ByteBuffer(string: "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"))
        try channel.writeOutbound(Self.head(.ok, [("content-length", "3")]))
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.write(HTTPServerResponsePart.body(Self.body("abc")), promise: promise)
        #expect(throws: NIOHTTPResponseEncoderError.self) { try promise.futureResult.wait() }
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        let text = String(decoding: try Self.bytes(of: channel), as: UTF8.self)
        #expect(text == "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n")
    }

    // MARK: framing as a plain value

    @Test("framing follows NIO's rules and changes the headers only when it must")
    func framing() {
        var lengthOnly = Self.headers([("Content-Length", "3"), ("X", "y")])
        #expect(HTTP1Framing.frame(&lengthOnly, body: .yes, version: .http1_1) == .contentLength)
        #expect(lengthOnly == Self.headers([("Content-Length", "3"), ("X", "y")]))

        var none = Self.headers([("X", "y")])
        #expect(HTTP1Framing.frame(&none, body: .yes, version: .http1_1) == .chunked)
        #expect(none == Self.headers([("X", "y"), ("transfer-encoding", "chunked")]))

        var old = Self.headers([("X", "y")])
        #expect(HTTP1Framing.frame(&old, body: .yes, version: .http1_0) == .neither)
        #expect(old == Self.headers([("X", "y")]))

        var both = Self.headers([("transfer-encoding", "chunked"), ("content-length", "1")])
        #expect(HTTP1Framing.frame(&both, body: .unlikely, version: .http1_1) == .contentLength)
        #expect(both == Self.headers([("content-length", "1")]))

        var gone = Self.headers([("Content-Length", "0"), ("Transfer-Encoding", "chunked"), ("a", "b")])
        #expect(HTTP1Framing.frame(&gone, body: .no, version: .http1_1) == .neither)
        #expect(gone == Self.headers([("a", "b")]))

        var coded = Self.headers([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")])
        #expect(HTTP1Framing.frame(&coded, body: .unlikely, version: .http1_1) == .neither)
    }

    @Test("chunk size lines are lower-case hex")
    func chunkSizes() {
        for (size, text) in [(1, "1"), (15, "f"), (16, "10"), (2048, "800"), (0xABCDE, "abcde")] {
            var buffer = ByteBuffer()
            HTTP1HeadWriter.writeChunkSize(size, into: &buffer)
            #expect(String(buffer: buffer) == text + "\r\n")
        }
    }
}
