import Foundation
import NIOCore
import TokenJarGateway

/// The JSON bodies the endpoints take and answer.
enum EndpointBodies {
    /// Largest request body read; `encryptedData` of the WeChat APIs is a few KiB.
    static let maxRequestBytes = 64 * 1024

    /// `{"code": "..."}` of `/wx/login` and `/wx/phone`.
    struct Code: Decodable {
        var code: String
    }

    /// `{"encryptedData": "...", "iv": "..."}` of `/wx/decrypt`, as `wx.getUserInfo` and the like return them.
    struct Encrypted: Decodable {
        var encryptedData: String
        var iv: String
    }

    /// The request body as `Body`; `bad_request` when it is not that JSON.
    static func decode<Body: Decodable>(_ type: Body.Type, from request: EndpointRequest) throws(WeChatError) -> Body {
        guard request.body.readableBytes > 0, request.body.readableBytes <= maxRequestBytes,
            let body = try? JSONDecoder().decode(Body.self, from: Data(request.body.readableBytesView))
        else { throw .badRequest }
        return body
    }

    /// A code from `wx.login` or `getPhoneNumber`: 1 to 256 letters, digits, `-`, `_` or `.`.
    static func checkedCode(_ body: Code) throws(WeChatError) -> String {
        let code = body.code
        guard !code.isEmpty, code.utf8.count <= 256,
            code.utf8.allSatisfy({ $0.isCodeCharacter })
        else { throw .badRequest }
        return code
    }

    /// A JSON answer of an `Encodable` value.
    static func json(_ value: some Encodable, token: String? = nil) -> EndpointResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return error(.apiError) }
        return .json(.ok, String(decoding: data, as: UTF8.self), token: token)
    }

    static func error(_ error: WeChatError) -> EndpointResponse {
        var response = EndpointResponse.json(error.status, error.jsonBody)
        if error == .methodNotAllowed { response.headers.add(name: "Allow", value: "POST") }
        return response
    }
}

extension UInt8 {
    fileprivate var isCodeCharacter: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }
}

/// `{"logged_in": true, "unionid_present": …}`: whether the login worked and whether WeChat
/// gave a unionid. Deliberately without the openid, the unionid and the session key.
struct LoginReply: Encodable {
    var loggedIn = true
    var unionIDPresent: Bool

    enum CodingKeys: String, CodingKey {
        case loggedIn = "logged_in"
        case unionIDPresent = "unionid_present"
    }
}

/// `{"phone_info": {"phoneNumber", "purePhoneNumber", "countryCode"}}`, WeChat's own field names.
struct PhoneReply: Encodable {
    struct Info: Encodable {
        var phoneNumber: String
        var purePhoneNumber: String
        var countryCode: String
    }

    var phoneInfo: Info

    enum CodingKeys: String, CodingKey {
        case phoneInfo = "phone_info"
    }
}

struct LogoutReply: Encodable {
    var loggedOut = true

    enum CodingKeys: String, CodingKey {
        case loggedOut = "logged_out"
    }
}
