import NIOCore
import NIOHTTP1
import Testing
import TokenJarTestSupport
@testable import TokenJarWeChat

/// Every refusal of the WeChat API, and every bad request, answers JSON with a stable code.
@Suite("WeChat error mapping")
struct ErrorMappingTests {
    /// `(code given to the fake, status, stable code)`.
    static let loginErrors: [(String, HTTPResponseStatus, String)] = [
        ("never-issued", .unauthorized, "wx_code_invalid"),
        ("code-rate-limited", .tooManyRequests, "wx_rate_limited"),
        ("code-high-risk", .forbidden, "wx_high_risk_user"),
        ("code-busy", .serviceUnavailable, "wx_busy"),
        ("code-garbled", .badGateway, "wx_api_error"),
        ("code-moved", .badGateway, "wx_api_error"),
    ]

    @Test("WeChat errcodes map to statuses and stable codes")
    func apiErrors() async throws {
        try await withHarness { h in
            for (code, status, stable) in Self.loginErrors {
                h.secrets.add(code)
                let response = try await h.login(code: code, token: nil)
                #expect(response.status == status, "\(code)")
                #expect(response.body.hasPrefix(#"{"error":{"code":"\#(stable)","#), "\(code): \(response.body)")
                #expect(response.headers.first(name: "X-Session-Token") == nil, "\(code): no session is made")
                #expect(response.headers.first(name: "Content-Type") == "application/json; charset=utf-8")
            }
            // -1 is retried once, and only once; the redirect is not followed.
            #expect(h.fake.received.count { $0.query["js_code"] == "code-busy" } == 2)
            #expect(h.fake.received.count { $0.query["js_code"] == "code-moved" } == 1)
            #expect(h.fake.received.count { $0.path == "/elsewhere" } == 0)
        }
    }

    @Test("a code works once; its reuse is wx_code_used (40163)")
    func codeReuse() async throws {
        try await withHarness { h in
            h.issueCode("code-once", openID: "o-once")
            #expect(try await h.login(code: "code-once", token: nil).status == .ok)
            let again = try await h.login(code: "code-once", token: nil)
            #expect(again.status == .unauthorized)
            #expect(again.body == WeChatError.api(40163).jsonBody)
            #expect(again.body.contains(#""code":"wx_code_used""#))
        }
    }

    @Test("system busy (-1) once is retried and succeeds")
    func busyOnceRetried() async throws {
        try await withHarness { h in
            h.issueCode("code-busy-once-1", openID: "o-busy")
            let response = try await h.login(code: "code-busy-once-1", token: nil)
            #expect(response.status == .ok)
            #expect(h.fake.calls("/sns/jscode2session") == 2)
        }
    }

    @Test("an unreachable WeChat API is wx_unreachable (502)")
    func unreachable() async throws {
        try await RefusingPort.with { closedPort in
            try await withHarness(apiBase: "http://127.0.0.1:\(closedPort)") { h in
                h.secrets.add("code-nowhere")
                let response = try await h.login(code: "code-nowhere", token: nil)
                #expect(response.status == .badGateway)
                #expect(response.body == WeChatError.unreachable.jsonBody)
            }
        }
    }

    @Test("malformed bodies are bad_request (400), and never reach WeChat")
    func malformedBodies() async throws {
        try await withHarness { h in
            let bodies = [
                "", "not json", "[]", #"{"code":1}"#, #"{"code":""}"#, #"{"other":"x"}"#,
                #"{"code":"a b"}"#, #"{"code":"x&secret=y"}"#, #"{"code":"\#(String(repeating: "a", count: 300))"}"#,
            ]
            for body in bodies {
                let response = try await h.call("/_tokenjar/wx/login", token: nil, method: .POST, body: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.body == WeChatError.badRequest.jsonBody, "\(body)")
            }
            #expect(h.fake.calls("/sns/jscode2session") == 0)
        }
    }

    @Test("endpoints take POST only (405), unknown paths are 404")
    func methodsAndPaths() async throws {
        try await withHarness { h in
            for path in ["/_tokenjar/wx/login", "/_tokenjar/wx/decrypt", "/_tokenjar/wx/phone", "/_tokenjar/logout"] {
                let response = try await h.call(path, token: nil)
                #expect(response.status == .methodNotAllowed, "\(path)")
                #expect(response.headers.first(name: "Allow") == "POST")
                #expect(response.body.contains(#""code":"method_not_allowed""#))
            }
            let unknown = try await h.call("/_tokenjar/wx/other", token: nil, method: .POST, body: "{}")
            #expect(unknown.status == .notFound)
            #expect(unknown.body.contains(#""code":"not_found""#))
        }
    }

    @Test("decrypt and phone need a WeChat login: login_required (401)")
    func loginRequired() async throws {
        try await withHarness { h in
            let anonymous = try await h.anonymousSession()
            for token in [nil, anonymous, "not-a-token"] {
                let decrypt = try await h.call(
                    "/_tokenjar/wx/decrypt", token: token, method: .POST, body: #"{"encryptedData":"AAAA","iv":"AAAA"}"#)
                #expect(decrypt.status == .unauthorized)
                #expect(decrypt.body == WeChatError.loginRequired.jsonBody)
                let phone = try await h.call("/_tokenjar/wx/phone", token: token, method: .POST, body: #"{"code":"p1"}"#)
                #expect(phone.status == .unauthorized)
                #expect(phone.body.contains(#""code":"login_required""#))
            }
            #expect(h.fake.calls("/cgi-bin/stable_token") == 0)
        }
    }

    @Test("the stable codes and statuses of every WeChat errcode")
    func errcodeTable() {
        let table: [(Int, UInt, String)] = [
            (40029, 401, "wx_code_invalid"), (40163, 401, "wx_code_used"), (45011, 429, "wx_rate_limited"),
            (40226, 403, "wx_high_risk_user"), (-1, 503, "wx_busy"), (40001, 502, "wx_api_error"),
            (40125, 502, "wx_api_error"), (40013, 502, "wx_api_error"),
        ]
        for (errcode, status, code) in table {
            let error = WeChatError.api(errcode)
            #expect(error.status.code == status && error.code == code, "\(errcode)")
            #expect(error.apiCode == errcode)
        }
    }
}
