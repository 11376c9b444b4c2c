/// An answer of the WeChat API: `errcode` is absent or 0 on success.
protocol WeChatReply: Decodable, Sendable {
    var errcode: Int? { get }
}

/// `jscode2session`: `{"openid","session_key","unionid"}` or `{"errcode","errmsg"}`.
struct Code2SessionReply: WeChatReply {
    var errcode: Int?
    var openid: String?
    var unionid: String?
    /// Base64 of the 16-byte AES key of this user's encrypted data. Never logged nor answered.
    var sessionKey: String?

    enum CodingKeys: String, CodingKey {
        case errcode, openid, unionid
        case sessionKey = "session_key"
    }
}

struct StableTokenRequest: Encodable {
    var grantType: String
    var appID: String
    var secret: String

    enum CodingKeys: String, CodingKey {
        case grantType = "grant_type"
        case appID = "appid"
        case secret
    }
}

/// `stable_token`: `{"access_token","expires_in"}`.
struct StableTokenReply: WeChatReply {
    var errcode: Int?
    var accessToken: String?
    var expiresIn: Int64?

    enum CodingKeys: String, CodingKey {
        case errcode
        case accessToken = "access_token"
        case expiresIn = "expires_in"
    }
}

struct PhoneNumberRequest: Encodable {
    var code: String
}

/// `getuserphonenumber`: `{"phone_info": {"phoneNumber","purePhoneNumber","countryCode","watermark"}}`.
struct PhoneNumberReply: WeChatReply {
    struct Watermark: Codable, Sendable {
        var appid: String?
        var timestamp: Int64?
    }

    struct PhoneInfo: Codable, Sendable {
        var phoneNumber: String?
        var purePhoneNumber: String?
        var countryCode: String?
        var watermark: Watermark?
    }

    var errcode: Int?
    var phoneInfo: PhoneInfo?

    enum CodingKeys: String, CodingKey {
        case errcode
        case phoneInfo = "phone_info"
    }
}
