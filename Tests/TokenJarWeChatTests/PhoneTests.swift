import Foundation
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarWeChat

/// `POST /_tokenjar/wx/phone`, with the `access_token` from `stable_token` cached in the store.
@Suite("WeChat phone numbers")
struct PhoneTests {
    static let phone = FakeWeChatAPI.Phone(phoneNumber: "+86 13800138000", purePhoneNumber: "13800138000", countryCode: "86")

    func phone(_ h: WeChatHarness, _ token: String, code: String) async throws -> ClientResponse {
        try await h.call("/_tokenjar/wx/phone", token: token, method: .POST, body: #"{"code":"\#(code)"}"#)
    }

    @Test("a phone code gives the number; the access token is fetched once and shared through the store")
    func phoneNumber() async throws {
        let store = MemorySessionStore()
        try await withHarness(store: store) { h in
            let token = try await h.loggedInSession(code: "code-ph", openID: "o-ph")
            h.fake.addPhoneCode("phone-code-1", Self.phone)
            h.secrets.add("phone-code-1")
            let response = try await phone(h, token, code: "phone-code-1")
            #expect(response.status == .ok, "\(response.body)")
            #expect(response.body == #"{"phone_info":{"countryCode":"86","phoneNumber":"+86 13800138000","purePhoneNumber":"13800138000"}}"#)

            let fetch = try #require(h.fake.received.first { $0.path == "/cgi-bin/stable_token" })
            let sent = try #require(try JSONSerialization.jsonObject(with: Data(fetch.body.utf8)) as? [String: String])
            #expect(sent == ["grant_type": "client_credential", "appid": WeChatHarness.appID, "secret": WeChatHarness.secret])
            let call = try #require(h.fake.received.first { $0.path == "/wxa/business/getuserphonenumber" })
            #expect(call.method == .POST && call.query["access_token"] == "ACCESS-TOKEN-1")
            #expect(call.body == #"{"code":"phone-code-1"}"#)

            let shared = try #require(try await store.sharedValue("wechat.access_token.\(WeChatHarness.appID)"))
            #expect(shared.value == Array("ACCESS-TOKEN-1".utf8))
            #expect(shared.expiresAt > Int64(Date().timeIntervalSince1970) + 7000)
            #expect(!response.body.contains("ACCESS-TOKEN"))
        }
    }

    @Test("20 concurrent phone requests share one stable_token fetch")
    func singleFlight() async throws {
        try await withHarness(tokenDelay: .milliseconds(400)) { h in
            let token = try await h.loggedInSession(code: "code-many", openID: "o-many")
            for i in 0..<20 { h.fake.addPhoneCode("phone-\(i)", Self.phone) }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for i in 0..<20 {
                    group.addTask { try await phone(h, token, code: "phone-\(i)").status }
                }
                return try await group.reduce(into: [HTTPResponseStatus]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: .ok, count: 20))
            #expect(h.fake.calls("/cgi-bin/stable_token") == 1)
            #expect(h.fake.calls("/wxa/business/getuserphonenumber") == 20)
        }
    }

    @Test("a refused access token (40001) is replaced once and the call retried")
    func refusedToken() async throws {
        try await withHarness(tokenDelay: .zero) { h in
            let token = try await h.loggedInSession(code: "code-rt", openID: "o-rt")
            h.fake.addPhoneCode("phone-a", Self.phone)
            h.fake.addPhoneCode("phone-b", Self.phone)
            #expect(try await phone(h, token, code: "phone-a").status == .ok)
            h.fake.invalidateTokens()
            let response = try await phone(h, token, code: "phone-b")
            #expect(response.status == .ok, "\(response.body)")
            #expect(h.fake.calls("/cgi-bin/stable_token") == 2)
            #expect(h.fake.received.last?.query["access_token"] == "ACCESS-TOKEN-2")
        }
    }

    @Test("phone errors: invalid, used, rate-limited, other app's watermark")
    func phoneErrors() async throws {
        try await withHarness(tokenDelay: .zero) { h in
            let token = try await h.loggedInSession(code: "code-pe", openID: "o-pe")
            h.fake.addPhoneCode("phone-once", Self.phone)
            #expect(try await phone(h, token, code: "phone-once").status == .ok)
            let cases: [(String, HTTPResponseStatus, String)] = [
                ("phone-unknown", .unauthorized, "wx_code_invalid"),
                ("phone-once", .unauthorized, "wx_code_used"),
                ("phone-rate-limited", .tooManyRequests, "wx_rate_limited"),
            ]
            for (code, status, stable) in cases {
                let response = try await phone(h, token, code: code)
                #expect(response.status == status, "\(code)")
                #expect(response.body.contains(#""code":"\#(stable)""#), "\(code)")
            }
            h.fake.addPhoneCode("phone-foreign", Self.phone)
            h.fake.state.withLockedValue { $0.phoneWatermarkAppID = "wx0000000000000000" }
            let foreign = try await phone(h, token, code: "phone-foreign")
            #expect(foreign.status == .forbidden)
            #expect(foreign.body == WeChatError.watermarkMismatch.jsonBody)
            let malformed = try await h.call("/_tokenjar/wx/phone", token: token, method: .POST, body: #"{"code":[]}"#)
            #expect(malformed.status == .badRequest)
            #expect(h.fake.calls("/cgi-bin/stable_token") == 1)
        }
    }
}
