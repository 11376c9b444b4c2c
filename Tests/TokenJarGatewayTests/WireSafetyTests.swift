import NIOHTTP1
import Testing
@testable import TokenJarGateway

/// The checks that stand in for NIO's outbound header validators, byte by byte against the
/// RFC 9110 and RFC 3986 definitions those validators use.
@Suite("What may be written in a head")
struct WireSafetyTests {
    static func isTChar(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
            || "!#$%&'*+-.^_`|~".utf8.contains(b)
    }

    static func isTargetChar(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
            || "-._~:/?#[]@!$&'()*+,;=%".utf8.contains(b)
    }

    @Test("every byte: tokens, field values and request targets agree with the definitions")
    func everyByte() {
        for b in UInt8.min...UInt8.max {
            let text = String(decoding: [0x61, b, 0x62], as: UTF8.self)
            guard Array(text.utf8) == [0x61, b, 0x62] else {
                // A lone byte over 0x7F is not UTF-8; as part of a character it is obs-text.
                #expect(!WireSafety.isToken("a\u{E9}b") && WireSafety.isFieldValue("a\u{E9}b") && !WireSafety.isRequestTarget("/\u{E9}"))
                continue
            }
            #expect(WireSafety.isToken(text) == Self.isTChar(b), "token byte \(b)")
            #expect(WireSafety.isFieldValue(text) == (b == 0x09 || (b >= 0x20 && b != 0x7F)), "value byte \(b)")
            #expect(WireSafety.isRequestTarget(text) == Self.isTargetChar(b), "target byte \(b)")
        }
        #expect(!WireSafety.isToken(""))
        #expect(WireSafety.isFieldValue(""))
    }

    @Test("a client head over HTTP/2 is forwardable only when method, target, names and values are")
    func heads() {
        func head(_ method: HTTPMethod = .GET, _ uri: String = "/a?b=c", _ headers: [(String, String)] = [("host", "x")]) -> HTTPRequestHead {
            HTTPRequestHead(version: .init(major: 2, minor: 0), method: method, uri: uri, headers: HTTPHeaders(headers))
        }
        #expect(WireSafety.isForwardable(head()))
        #expect(WireSafety.isForwardable(head(.RAW(value: "PURGE-ALL"))))
        #expect(!WireSafety.isForwardable(head(.RAW(value: "GET /x HTTP/1.1\r\n"))))
        #expect(!WireSafety.isForwardable(head(.GET, "/a b")))
        #expect(!WireSafety.isForwardable(head(.GET, "/a\r\nX-Injected: 1")))
        #expect(!WireSafety.isForwardable(head(.GET, "/a", [("x-a", "1\u{1}2")])))
        #expect(!WireSafety.isForwardable(head(.GET, "/a", [("x a", "1")])))
        #expect(WireSafety.isForwardable(head(.GET, "/a", [("x-a", "tab\there \"quoted\" é")])))
    }

    @Test("a status is sendable unless an unknown code carries a control byte in its reason")
    func statuses() {
        #expect(WireSafety.isSendable(.ok))
        #expect(WireSafety.isSendable(.custom(code: 599, reasonPhrase: "Network Read Timeout")))
        #expect(WireSafety.isSendable(.custom(code: 599, reasonPhrase: "")))
        #expect(!WireSafety.isSendable(.custom(code: 599, reasonPhrase: "a\r\nX-Injected: 1")))
        #expect(!WireSafety.isSendable(.custom(code: 599, reasonPhrase: "a\u{0}b")))
    }

    @Test("a hostile identity never becomes a header: no identity header, no injected line")
    func hostileIdentity() {
        for hostile in ["o-1\r\nX-Injected: 1", "o-1\nX-Injected: 1", "o-1\u{0}", "o-1\u{7F}"] {
            let ctx = ForwardingContext(
                tokenHeader: "x-session-token", identityHeaders: ["x-wx-openid", "x-wx-unionid"],
                clientAddress: "127.0.0.1", scheme: "http", host: "x", cookie: "a=1",
                dropClientCookies: false, chunkedBody: false, identity: (openID: hostile, unionID: hostile))
            let out = RequestRewriter.upstreamHeaders(from: HTTPHeaders([("Host", "x")]), ctx)
            #expect(out["x-wx-openid"].isEmpty, "\(hostile.debugDescription)")
            #expect(out["x-wx-unionid"].isEmpty)
            #expect(out["x-injected"].isEmpty)
            #expect(WireSafety.areFields(out))
        }
        // A clean identity with a hostile union id keeps the openid only.
        let ctx = ForwardingContext(
            tokenHeader: "x-session-token", identityHeaders: ["x-wx-openid", "x-wx-unionid"],
            clientAddress: nil, scheme: "http", host: nil, cookie: nil,
            dropClientCookies: false, chunkedBody: false, identity: (openID: "o-1", unionID: "u\r\n"))
        let out = RequestRewriter.upstreamHeaders(from: HTTPHeaders(), ctx)
        #expect(out["x-wx-openid"] == ["o-1"])
        #expect(out["x-wx-unionid"].isEmpty)
    }
}
