import Testing
import TokenJarStore
import TokenJarTestSupport

/// No secret, code, session key or access token in any log line (captured at trace level) nor
/// in any answer, through every flow and error.
@Suite("WeChat secrets stay out of logs and answers")
struct SecretHygieneTests {
    @Test("every flow, every error: the logs and answers hold no secret")
    func noSecretAnywhere() async throws {
        var answers: [String] = []
        var logs: [String] = []
        var secrets: [String] = []
        try await withHarness(tokenDelay: .zero) { h in
            let key = randomKey()
            let token = try await h.loggedInSession(code: "081secretCODEa", openID: "o-hyg", unionID: "u-hyg", sessionKey: key)
            for code in ["code-rate-limited", "code-high-risk", "code-busy", "code-garbled", "code-moved", "never-issued-x1"] {
                h.secrets.add(code)
                answers.append(try await h.login(code: code, token: token).body)
            }
            h.issueCode("081secretCODEb", openID: "o-hyg")
            _ = try await h.login(code: "081secretCODEb", token: nil)
            answers.append(try await h.login(code: "081secretCODEb", token: nil).body)  // reused
            let body = try DecryptTests.vector(DecryptTests.userInfo(), key: key)
            answers.append(try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: body).body)
            let stale = try DecryptTests.vector(DecryptTests.userInfo(), key: randomKey())
            answers.append(try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: stale).body)
            h.fake.addPhoneCode("phone-secret-code", PhoneTests.phone)
            h.secrets.add("phone-secret-code")
            answers.append(try await h.call("/_tokenjar/wx/phone", token: token, method: .POST, body: #"{"code":"phone-secret-code"}"#).body)
            h.fake.invalidateTokens()
            h.secrets.add("phone-unknown-code")
            answers.append(try await h.call("/_tokenjar/wx/phone", token: token, method: .POST, body: #"{"code":"phone-unknown-code"}"#).body)
            answers.append(try await h.call("/_tokenjar/logout", token: token, method: .POST).body)
            // The access tokens and WeChat's own error messages are not for logs either.
            h.secrets.add("ACCESS-TOKEN")
            h.secrets.add("rid: ")
            h.secrets.add("invalid code")
            logs = h.logs.all
            secrets = h.secrets.all
        }
        try await RefusingPort.with { closedPort in
            try await withHarness(apiBase: "http://127.0.0.1:\(closedPort)") { h in
                h.secrets.add("081secretCODEc")
                answers.append(try await h.login(code: "081secretCODEc", token: nil).body)
                logs += h.logs.all
                secrets += h.secrets.all
            }
        }
        #expect(logs.contains { $0.contains("logged in") }, "the capture works")
        #expect(logs.contains { $0.contains("endpoint refused") && $0.contains("errcode=45011") })
        #expect(logs.contains { $0.contains("code=wx_unreachable") })
        for secret in secrets {
            #expect(!logs.contains { $0.contains(secret) }, "\(secret) logged")
            #expect(!answers.contains { $0.contains(secret) }, "\(secret) answered")
        }
        #expect(!answers.contains { $0.contains("ACCESS-TOKEN") || $0.contains("session_key\":") })
    }
}
