import Crypto
import Foundation
import Testing
import _CryptoExtras
@testable import TokenJarWeChat

/// `POST /_tokenjar/wx/decrypt`, with vectors the tests encrypt themselves: AES-128-CBC with
/// PKCS#7 of a JSON object stamped with `watermark.appid`.
@Suite("WeChat decryption")
struct DecryptTests {
    /// `{"encryptedData","iv"}` for `json`, encrypted under `key`.
    static func vector(_ json: String, key: [UInt8], iv: [UInt8] = randomKey()) throws -> String {
        let ciphertext = try AES._CBC.encrypt(Data(json.utf8), using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: iv))
        return #"{"encryptedData":"\#(ciphertext.base64EncodedString())","iv":"\#(Data(iv).base64EncodedString())"}"#
    }

    static func userInfo(appID: String = WeChatHarness.appID) -> String {
        #"{"openId":"o-dec","nickName":"Wei","gender":1,"watermark":{"timestamp":1700000000,"appid":"\#(appID)"}}"#
    }

    @Test("data encrypted under the session key comes back as its JSON")
    func decrypts() async throws {
        try await withHarness { h in
            let key = randomKey()
            let token = try await h.loggedInSession(code: "code-dec", openID: "o-dec", sessionKey: key)
            for json in [Self.userInfo(), #"{"stepInfoList":[{"timestamp":1,"step":42}],"watermark":{"appid":"\#(WeChatHarness.appID)","timestamp":2}}"#] {
                let response = try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: try Self.vector(json, key: key))
                #expect(response.status == .ok, "\(response.body)")
                #expect(response.body == json)
                #expect(response.headers.first(name: "Content-Type") == "application/json; charset=utf-8")
            }
        }
    }

    @Test("a watermark of another appid is watermark_mismatch (403)")
    func wrongAppID() async throws {
        try await withHarness { h in
            let key = randomKey()
            let token = try await h.loggedInSession(code: "code-wm", openID: "o-wm", sessionKey: key)
            for json in [Self.userInfo(appID: "wx0000000000000000"), #"{"openId":"o"}"#, #"{"watermark":{"appid":7}}"#] {
                let response = try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: try Self.vector(json, key: key))
                #expect(response.status == .forbidden, "\(json)")
                #expect(response.body == WeChatError.watermarkMismatch.jsonBody)
            }
        }
    }

    @Test("data under a newer session key is session_key_stale (401): log in again")
    func staleKey() async throws {
        try await withHarness { h in
            let key = randomKey()
            let token = try await h.loggedInSession(code: "code-stale", openID: "o-stale", sessionKey: key)
            // The client called wx.login again: WeChat encrypts under a key the gateway never saw.
            for _ in 0..<8 {
                let body = try Self.vector(Self.userInfo(), key: randomKey())
                let response = try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: body)
                #expect(response.status == .unauthorized)
                #expect(response.body == WeChatError.sessionKeyStale.jsonBody)
            }
            // Valid padding but no JSON inside is stale too.
            let notJSON = try Self.vector("plain text, not json", key: key)
            let response = try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: notJSON)
            #expect(response.body.contains(#""code":"session_key_stale""#))

            // After logging in again, the fresh key decrypts.
            let newKey = randomKey()
            h.issueCode("code-stale-2", openID: "o-stale", sessionKey: newKey)
            let relogin = try await h.login(code: "code-stale-2", token: token)
            let fresh = try #require(relogin.headers.first(name: "X-Session-Token"))
            let ok = try await h.call("/_tokenjar/wx/decrypt", token: fresh, method: .POST, body: try Self.vector(Self.userInfo(), key: newKey))
            #expect(ok.status == .ok)
        }
    }

    @Test("malformed input is bad_request (400)")
    func malformed() async throws {
        try await withHarness { h in
            let token = try await h.loggedInSession(code: "code-bad", openID: "o-bad")
            let sixteen = Data(randomKey()).base64EncodedString()
            let bodies = [
                "{}", #"{"encryptedData":"AAAA"}"#,
                #"{"encryptedData":"!!notbase64!!","iv":"\#(sixteen)"}"#,
                #"{"encryptedData":"\#(sixteen)","iv":"AAAA"}"#,
                #"{"encryptedData":"\#(Data([1, 2, 3]).base64EncodedString())","iv":"\#(sixteen)"}"#,
                #"{"encryptedData":"","iv":"\#(sixteen)"}"#,
            ]
            for body in bodies {
                let response = try await h.call("/_tokenjar/wx/decrypt", token: token, method: .POST, body: body)
                #expect(response.status == .badRequest, "\(body)")
            }
        }
    }

    @Test("PKCS#7 padding is checked byte by byte")
    func padding() {
        #expect(EncryptedDataDecryptor.unpadded([7, 7, 1]) == [7, 7])
        #expect(EncryptedDataDecryptor.unpadded([9] + [UInt8](repeating: 16, count: 16)) == [9])
        #expect(EncryptedDataDecryptor.unpadded([1, 2, 2]) == [1])
        #expect(EncryptedDataDecryptor.unpadded([1, 3, 2]) == nil)
        #expect(EncryptedDataDecryptor.unpadded([1, 0]) == nil)
        #expect(EncryptedDataDecryptor.unpadded([UInt8](repeating: 17, count: 17)) == nil)
        #expect(EncryptedDataDecryptor.unpadded([3, 3]) == nil)
        #expect(EncryptedDataDecryptor.unpadded([]) == nil)
    }
}
