import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import TokenJarGateway

/// The upstream response parser as a plain value: what it yields for every way the bytes can be
/// cut into reads, the same heads, bodies and trailers as NIO's decoder, and the responses it
/// refuses.
@Suite("HTTP/1 response parser")
struct HTTP1ResponseParserTests {
    /// What a parse gives: heads, bodies joined, ends; then any bytes left unread.
    enum Event: Equatable {
        case head(HTTPResponseHead)
        case body(String)
        case end(HTTPHeaders?)
    }

    /// Feeds `reads` one by one, as a connection would, keeping unread bytes for the next read;
    /// consecutive bodies are joined. `eof` feeds the end of the connection after the last read.
    static func parse(
        _ reads: [[UInt8]], head: Bool = false, eof: Bool = false
    ) throws(HTTPParserError) -> [Event] {
        var parser = HTTP1ResponseParser()
        parser.answersHEAD = head
        var events: [Event] = []
        var held = ByteBuffer()
        for read in reads {
            held.writeBytes(read)
            while let part = try parser.next(&held) { add(part, to: &events) }
        }
        if eof, let part = try parser.finish(buffered: held.readableBytes > 0) { add(part, to: &events) }
        return events
    }

    /// Appends `part` as an event, joining it to a body just before.
    static func add(_ part: HTTPClientResponsePart, to events: inout [Event]) {
        switch part {
        case .head(let head): events.append(.head(head))
        case .body(let bytes):
            if case .body(let earlier) = events.last {
                events[events.count - 1] = .body(earlier + String(buffer: bytes))
            } else {
                events.append(.body(String(buffer: bytes)))
            }
        case .end(let trailers): events.append(.end(trailers))
        }
    }

    /// The same bytes cut at every position into two reads, and into one read per byte.
    static func everySplit(_ text: String, head: Bool = false, eof: Bool = false) throws -> [[Event]] {
        let bytes = Array(text.utf8)
        var results = [try parse([bytes], head: head, eof: eof), try parse(bytes.map { [$0] }, head: head, eof: eof)]
        for cut in 1..<bytes.count {
            results.append(try parse([Array(bytes[..<cut]), Array(bytes[cut...])], head: head, eof: eof))
        }
        return results
    }

    static func head(_ status: HTTPResponseStatus, _ headers: [(String, String)], version: HTTPVersion = .http1_1) -> Event {
        .head(HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers)))
    }

    @Test("Content-Length body, two responses back to back, in any cut of the reads")
    func contentLength() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1; Path=/\r\nX-Pad: \t v \t\r\n\r\nhello"
            + "HTTP/1.0 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        let expected: [Event] = [
            Self.head(.ok, [("Content-Length", "5"), ("Set-Cookie", "a=1; Path=/"), ("X-Pad", "v")]),
            .body("hello"), .end(nil),
            Self.head(.notFound, [("content-length", "0")], version: .http1_0), .end(nil),
        ]
        for events in try Self.everySplit(text) { #expect(events == expected) }
    }

    @Test("chunked body with extensions and trailers, in any cut of the reads")
    func chunked() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1A\r\n" + String(repeating: "z", count: 26) + "\r\n0\r\nX-Sum: 9\r\nX-Two: a b\r\n\r\n"
            + "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"
        let expected: [Event] = [
            Self.head(.ok, [("Transfer-Encoding", "gzip, Chunked")]),
            .body("hello" + String(repeating: "z", count: 26)),
            .end(HTTPHeaders([("X-Sum", "9"), ("X-Two", "a b")])),
            Self.head(.ok, [("transfer-encoding", "chunked")]),
            .end(nil),
        ]
        for events in try Self.everySplit(text) { #expect(events == expected) }
    }

    @Test("no framing, or a last coding other than chunked: the body runs to the close")
    func untilClose() throws {
        for text in ["HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of it", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nall of it"] {
            for events in try Self.everySplit(text, eof: true) {
                #expect(events.count == 3 && events[1] == .body("all of it") && events[2] == .end(nil))
            }
            // Without the close the body has not ended.
            #expect(try Self.parse([Array(text.utf8)]).last == .body("all of it"))
        }
    }

    @Test("no body after HEAD or for 204 and 304; interim 1xx skipped; nothing read after 101")
    func bodiless() throws {
        let length = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
        #expect(try Self.parse([Array(length.utf8)], head: true) == [Self.head(.ok, [("Content-Length", "10")]), .end(nil)])
        for status in [204, 304] {
            let text = "HTTP/1.1 \(status) X\r\nContent-Length: 3\r\n\r\n"
            #expect(try Self.parse([Array(text.utf8)]) == [
                Self.head(HTTPResponseStatus(statusCode: status), [("Content-Length", "3")]), .end(nil),
            ])
        }
        let interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nk"
        for events in try Self.everySplit(interim) {
            #expect(events == [Self.head(.created, [("Content-Length", "1")]), .body("k"), .end(nil)])
        }
        var parser = HTTP1ResponseParser()
        var bytes = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nnot http")
        #expect(try parser.next(&bytes) == .head(HTTPResponseHead(
            version: .http1_1, status: .switchingProtocols, headers: HTTPHeaders([("Upgrade", "x")]))))
        #expect(try parser.next(&bytes) == nil && parser.state == .upgraded && bytes.readableBytes == 0)
    }

    @Test("the end of the connection: nothing under way, a head cut short, a body cut short")
    func endOfConnection() throws {
        #expect(try Self.parse([], eof: true) == [])
        #expect(throws: HTTPParserError.invalidEOFState) { try Self.parse([Array("HTTP/1.1 200".utf8)], eof: true) }
        #expect(throws: HTTPParserError.invalidEOFState) {
            try Self.parse([Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel".utf8)], eof: true)
        }
        #expect(throws: HTTPParserError.invalidEOFState) {
            try Self.parse([Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".utf8)], eof: true)
        }
    }

    static let refused: [(String, String, HTTPParserError)] = [
        ("a bare LF ending a header", "HTTP/1.1 200 OK\r\nX-A: a\nInjected: 1\r\n\r\n", .lfExpected),
        ("a bare LF ending the status line", "HTTP/1.1 200 OK\nX-A: a\r\n\r\n", .lfExpected),
        ("a bare CR in a value", "HTTP/1.1 200 OK\r\nX-A: a\rInjected: 1\r\n\r\n", .lfExpected),
        ("obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: a\r\n Injected: 1\r\n\r\n", .invalidHeaderToken),
        ("folding with a tab", "HTTP/1.1 200 OK\r\nX-A: a\r\n\tInjected: 1\r\n\r\n", .invalidHeaderToken),
        ("a NUL in a value", "HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\n\r\n", .invalidHeaderToken),
        ("a control byte in a value", "HTTP/1.1 200 OK\r\nX-A: a\u{1}b\r\n\r\n", .invalidHeaderToken),
        ("a space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", .invalidHeaderToken),
        ("an empty name", "HTTP/1.1 200 OK\r\n: v\r\n\r\n", .invalidHeaderToken),
        ("no colon", "HTTP/1.1 200 OK\r\nX-A\r\n\r\n", .invalidHeaderToken),
        ("two Content-Length fields", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nk", .unexpectedContentLength),
        ("Content-Length with Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", .unexpectedContentLength),
        ("a Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nk", .invalidContentLength),
        ("a signed Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nk", .invalidContentLength),
        ("an empty Content-Length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", .invalidContentLength),
        ("an overflowing Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", .invalidContentLength),
        ("a chunk size that is not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", .invalidChunkSize),
        ("a space after the chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n", .invalidChunkSize),
        ("an overflowing chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", .invalidChunkSize),
        ("chunk data longer than its size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", .invalidChunkSize),
        ("a bare LF after a chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n", .invalidChunkSize),
        ("HTTP/2 in the status line", "HTTP/2.0 200 OK\r\n\r\n", .invalidVersion),
        ("not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", .invalidVersion),
        ("a two-digit status", "HTTP/1.1 20 OK\r\n\r\n", .invalidStatus),
        ("a four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", .invalidStatus),
        ("a status below 100", "HTTP/1.1 099 Odd\r\n\r\n", .invalidStatus),
        ("a control byte in the reason", "HTTP/1.1 200 O\u{7}K\r\n\r\n", .invalidStatus),
        ("a bad trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX A: 1\r\n\r\n", .invalidHeaderToken),
    ]

    @Test("refused with NIO's error kinds", arguments: refused.indices)
    func refusals(_ index: Int) {
        let (name, text, error) = Self.refused[index]
        #expect(throws: error, "\(name)") { try Self.parse([Array(text.utf8)]) }
        #expect(throws: error, "\(name), byte by byte") { try Self.parse(Array(text.utf8).map { [$0] }) }
    }

    @Test("a head larger than the bound is refused before it ends")
    func headBound() {
        let big = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: HTTP1ResponseParser.maxHeadBytes)
        #expect(throws: HTTPParserError.headerOverflow) { try Self.parse([Array(big.utf8)]) }
        let justFits = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: 64 * 1024) + "\r\nContent-Length: 0\r\n\r\n"
        #expect((try? Self.parse([Array(justFits.utf8)]))?.count == 2)
    }

    /// NIO's decoder over the same bytes, in one read: its parts as events.
    static func nio(_ text: String) throws -> [Event] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPResponseDecoder()))
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try channel.writeInbound(ByteBuffer(string: text))
        var events: [Event] = []
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) { add(part, to: &events) }
        _ = try? channel.finish()
        return events
    }

    /// One difference: NIO's decoder keeps spaces and tabs after a value; this parser drops them,
    /// as RFC 9110 §5.5 defines the value (`contentLength` checks it).
    @Test("the same parts as NIO's decoder for well-formed responses")
    func sameAsNIO() throws {
        let responses = [
            "HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: 4\r\nConnection: keep-alive\r\nSet-Cookie: PHPSESSID=abc; path=/\r\nSet-Cookie: b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT\r\n\r\nbody",
            "HTTP/1.0 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 500 Whatever\r\nTransfer-Encoding: chunked\r\nX-Tab:\ta\tb\r\nX-Empty:\r\nX-Utf8: é\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
            "HTTP/1.1 599\r\nContent-Length: 1\r\n\r\nz",
        ]
        for text in responses {
            let ours = try Self.parse([Array(text.utf8)])
            let theirs = try Self.nio(text)
            #expect(ours == theirs, "\(ours) vs \(theirs)")
            if case .head(let head) = ours.first {
                let theirs = try Self.nio(text)
                if case .head(let nioHead) = theirs.first { #expect(head.isKeepAlive == nioHead.isKeepAlive) }
            }
        }
    }

    @Test("whether the connection may be reused: as NIO's decoder reads the head")
    func keepAlive() throws {
        let heads = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: Close\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: upgrade, close\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nServer: no framing\r\n\r\n", false),
        ]
        for (text, expected) in heads {
            var parser = HTTP1ResponseParser()
            var bytes = ByteBuffer(string: text)
            guard case .head = try parser.next(&bytes) else {
                Issue.record("no head: \(text)")
                continue
            }
            #expect(parser.keepAlive == expected, "\(text)")
            if case .head(let nioHead) = try Self.nio(text).first {
                #expect(nioHead.isKeepAlive == expected, "NIO: \(text)")
            }
        }
    }
}
