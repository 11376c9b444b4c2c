import Testing
import TokenJarGateway

/// `POST /_tokenjar/logout`, with and without WeChat configured.
@Suite("Logout")
struct LogoutTests {
    @Test("logout revokes the session: its token no longer opens login-only routes nor carries the jar")
    func logout() async throws {
        try await withHarness { h in
            let token = try await h.loggedInSession(code: "code-out", openID: "o-out")
            #expect(try await h.call("/members/x", token: token).status == .ok)
            let response = try await h.call("/_tokenjar/logout", token: token, method: .POST)
            #expect(response.status == .ok)
            #expect(response.body == #"{"logged_out":true}"#)
            let after = try await h.call("/members/x", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.body.contains(#""code":"login_required""#))
            let fresh = try await h.call("/", token: token)
            #expect(fresh.headers.first(name: "X-Session-Token").map { $0 != token } == true, "a new anonymous session")
            #expect(h.backend.requests.last?.headers.first(name: "Cookie") == nil)
            #expect(h.backend.requests.last?.headers["X-WX-OpenID"] == [])
            // Idempotent, and fine without a token.
            #expect(try await h.call("/_tokenjar/logout", token: token, method: .POST).status == .ok)
            #expect(try await h.call("/_tokenjar/logout", token: nil, method: .POST).status == .ok)
        }
    }

    @Test("without WeChat configured, logout still works and the wx endpoints do not exist")
    func logoutWithoutWeChat() async throws {
        try await withHarness(wechat: false) { h in
            let anonymous = try await h.anonymousSession()
            h.fake.addLoginCode("code-off", .init(openID: "o", unionID: nil, sessionKey: "AAAAAAAAAAAAAAAAAAAAAA=="))
            let login = try await h.login(code: "code-off", token: anonymous)
            #expect(login.status == .notFound)
            #expect(login.body.contains(#""code":"not_found""#))
            #expect(h.fake.received.isEmpty)

            _ = try await h.call("/", token: anonymous)
            #expect(h.backend.requests.last?.headers.first(name: "Cookie") == "JSESSIONID=j1")
            #expect(try await h.call("/_tokenjar/logout", token: anonymous, method: .POST).status == .ok)
            let after = try await h.call("/", token: anonymous)
            #expect(after.headers.first(name: "X-Session-Token").map { $0 != anonymous } == true)
            #expect(h.backend.requests.last?.headers.first(name: "Cookie") == nil)
        }
    }
}
