import NIOHTTP1
import Testing
import TokenJarGateway
import TokenJarStore

/// `POST /_tokenjar/wx/login` against the fake WeChat API, and the identity headers that the
/// backend then receives.
@Suite("WeChat login")
struct LoginTests {
    @Test("login exchanges the code, rotates the token, keeps the jar and answers no secret")
    func login() async throws {
        try await withHarness { h in
            let user = h.issueCode("081abcCODE1", openID: "o-user-1", unionID: "u-user-1")
            let anonymous = try await h.anonymousSession()

            let response = try await h.login(code: "081abcCODE1", token: anonymous)
            #expect(response.status == .ok)
            #expect(response.body == #"{"logged_in":true,"unionid_present":true}"#)
            #expect(response.headers.first(name: "Cache-Control") == "no-store")
            let token = try #require(response.headers.first(name: "X-Session-Token"))
            #expect(token != anonymous)
            for secret in [WeChatHarness.secret, user.sessionKey, "081abcCODE1", "o-user-1", "u-user-1"] {
                #expect(!response.body.contains(secret))
                #expect(!response.headers.description.contains(secret))
            }

            // The fake saw exactly the documented call.
            let call = try #require(h.fake.received.first { $0.path == "/sns/jscode2session" })
            #expect(call.method == .GET)
            #expect(call.query == [
                "appid": WeChatHarness.appID, "secret": WeChatHarness.secret, "js_code": "081abcCODE1",
                "grant_type": "authorization_code",
            ])

            // The logged-in session passes a login-only route, with its identity and the carried jar.
            let member = try await h.call("/members/home", token: token)
            #expect(member.status == .ok)
            let seen = try #require(h.backend.requests.last).headers
            #expect(seen["X-WX-OpenID"] == ["o-user-1"])
            #expect(seen["X-WX-UnionID"] == ["u-user-1"])
            #expect(seen.first(name: "Cookie") == "JSESSIONID=j1")
            #expect(seen.first(name: "X-Session-Token") == nil)

            // The anonymous token is retired.
            _ = try await h.call("/plain", token: anonymous)
            #expect(h.backend.requests.last?.headers.first(name: "Cookie") == nil)
            #expect(h.backend.requests.last?.headers.first(name: "X-WX-OpenID") == nil)
        }
    }

    @Test("every request of a logged-in session carries the openid; the unionid only when WeChat gave one")
    func identityHeaders() async throws {
        try await withHarness { h in
            let token = try await h.loggedInSession(code: "code-no-union", openID: "o-solo")
            for path in ["/", "/members/a", "/other?x=1"] {
                #expect(try await h.call(path, token: token).status == .ok)
                let seen = try #require(h.backend.requests.last).headers
                #expect(seen["X-WX-OpenID"] == ["o-solo"], "\(path)")
                #expect(seen["X-WX-UnionID"].isEmpty, "\(path)")
            }
        }
    }

    @Test("identity headers sent by a client never reach the backend, anonymous or logged in")
    func spoofedHeadersRemoved() async throws {
        try await withHarness { h in
            let forged = [("X-WX-OpenID", "o-admin"), ("x-wx-unionid", "u-admin"), ("X-Wx-Openid", "o-admin-2")]

            // No session at all, and an anonymous one.
            _ = try await h.call("/", token: nil, headers: forged)
            var seen = try #require(h.backend.requests.last).headers
            #expect(seen["X-WX-OpenID"].isEmpty && seen["X-WX-UnionID"].isEmpty)
            let anonymous = try await h.anonymousSession()
            _ = try await h.call("/", token: anonymous, headers: forged)
            seen = try #require(h.backend.requests.last).headers
            #expect(seen["X-WX-OpenID"].isEmpty && seen["X-WX-UnionID"].isEmpty)
            // Forged headers do not open a login-only route either.
            let refused = try await h.call("/members/x", token: anonymous, headers: forged)
            #expect(refused.status == .unauthorized)
            #expect(refused.body.contains(#""code":"login_required""#))

            // Logged in: only the session's own identity arrives, once.
            let token = try await h.loggedInSession(code: "code-spoof", openID: "o-real", unionID: "u-real")
            _ = try await h.call("/members/x", token: token, headers: forged)
            seen = try #require(h.backend.requests.last).headers
            #expect(seen["X-WX-OpenID"] == ["o-real"])
            #expect(seen["X-WX-UnionID"] == ["u-real"])
        }
    }

    @Test("logging in again as another user starts a fresh session instead of carrying the jar")
    func reloginAsAnotherUser() async throws {
        try await withHarness { h in
            let first = try await h.loggedInSession(code: "code-a", openID: "o-a")
            h.issueCode("code-b", openID: "o-b")
            let again = try await h.login(code: "code-b", token: first)
            #expect(again.status == .ok)
            let second = try #require(again.headers.first(name: "X-Session-Token"))
            _ = try await h.call("/members/x", token: second)
            let seen = try #require(h.backend.requests.last).headers
            #expect(seen["X-WX-OpenID"] == ["o-b"])
            #expect(seen.first(name: "Cookie") == nil, "user a's backend cookies stay with user a")
            // And the first user's token is gone.
            #expect(try await h.call("/members/x", token: first).status == .unauthorized)

            // The same user logging in again keeps the jar and gets a new token.
            h.issueCode("code-b2", openID: "o-b")
            _ = try await h.call("/start", token: second)
            let renewed = try await h.login(code: "code-b2", token: second)
            let third = try #require(renewed.headers.first(name: "X-Session-Token"))
            #expect(third != second)
            _ = try await h.call("/members/y", token: third)
            #expect(h.backend.requests.last?.headers.first(name: "Cookie") == "JSESSIONID=j1")
        }
    }

    @Test("a login without any token logs a new session in")
    func loginWithoutToken() async throws {
        try await withHarness { h in
            h.issueCode("code-fresh", openID: "o-fresh")
            let response = try await h.login(code: "code-fresh", token: nil)
            #expect(response.status == .ok)
            let token = try #require(response.headers.first(name: "X-Session-Token"))
            #expect(try await h.call("/members/x", token: token).status == .ok)
            #expect(h.backend.requests.last?.headers["X-WX-OpenID"] == ["o-fresh"])
        }
    }

    @Test("an openid or unionid WeChat answers with CR, LF or a control byte: the login fails and nothing reaches the backend",
          arguments: [
              (#"o-evil\r\nX-Injected: 1"#, nil),
              (#"o-evil\u0000"#, nil),
              ("o-fine", #"u-evil\nX-Injected: 1"#),
              ("o-fine", #"u-evil\u0001"#),
          ] as [(String, String?)])
    func hostileIdentity(_ openID: String, _ unionID: String?) async throws {
        try await withHarness { h in
            h.issueCode("code-evil", openID: openID, unionID: unionID)
            let anonymous = try await h.anonymousSession()
            let response = try await h.login(code: "code-evil", token: anonymous)
            #expect(response.status == .badGateway)
            #expect(response.body.contains("wx_api_error"))
            #expect(response.headers.first(name: "X-Session-Token") == nil)
            // The session stays anonymous: no identity, no injected line.
            #expect(try await h.call("/plain", token: anonymous).status == .ok)
            let seen = try #require(h.backend.requests.last).headers
            #expect(seen["X-WX-OpenID"].isEmpty)
            #expect(seen["X-WX-UnionID"].isEmpty)
            #expect(seen["X-Injected"].isEmpty)
        }
    }
}
