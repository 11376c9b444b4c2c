import NIOHTTP1

/// An error the WeChat endpoints answer, with its HTTP status and a stable machine-readable code.
///
/// Messages are fixed strings: they never carry a secret, a login code, a session key, an
/// `errmsg` of the WeChat API, nor the description of a transport error (whose URL would hold
/// the secret). The client library switches on `code`.
public struct WeChatError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case badRequest
        case methodNotAllowed
        case loginRequired
        case codeInvalid
        case codeUsed
        case rateLimited
        case highRiskUser
        case busy
        case unreachable
        case apiError
        case accessTokenInvalid
        case sessionKeyStale
        case watermarkMismatch
        case storeUnavailable
    }

    private let kind: Kind
    /// The `errcode` the WeChat API answered, when this error comes from one (for logs).
    public let apiCode: Int?

    private init(_ kind: Kind, apiCode: Int? = nil) {
        self.kind = kind
        self.apiCode = apiCode
    }

    public static let badRequest = WeChatError(.badRequest)
    public static let methodNotAllowed = WeChatError(.methodNotAllowed)
    public static let loginRequired = WeChatError(.loginRequired)
    public static let unreachable = WeChatError(.unreachable)
    public static let apiError = WeChatError(.apiError)
    public static let sessionKeyStale = WeChatError(.sessionKeyStale)
    public static let watermarkMismatch = WeChatError(.watermarkMismatch)
    public static let storeUnavailable = WeChatError(.storeUnavailable)

    /// The error for an `errcode` other than 0 in an answer of the WeChat API.
    public static func api(_ errcode: Int) -> WeChatError {
        switch errcode {
        case 40029: WeChatError(.codeInvalid, apiCode: errcode)
        case 40163: WeChatError(.codeUsed, apiCode: errcode)
        case 45011: WeChatError(.rateLimited, apiCode: errcode)
        case 40226: WeChatError(.highRiskUser, apiCode: errcode)
        case -1: WeChatError(.busy, apiCode: errcode)
        case 40001, 40014, 42001: WeChatError(.accessTokenInvalid, apiCode: errcode)
        default: WeChatError(.apiError, apiCode: errcode)
        }
    }

    /// `-1`: worth one more try.
    var isBusy: Bool { kind == .busy }
    /// The `access_token` was refused: fetch another and try once more.
    var isAccessTokenInvalid: Bool { kind == .accessTokenInvalid }

    /// The HTTP status the client receives.
    public var status: HTTPResponseStatus {
        switch kind {
        case .badRequest: .badRequest
        case .methodNotAllowed: .methodNotAllowed
        case .loginRequired, .codeInvalid, .codeUsed, .sessionKeyStale: .unauthorized
        case .rateLimited: .tooManyRequests
        case .highRiskUser, .watermarkMismatch: .forbidden
        case .busy, .storeUnavailable: .serviceUnavailable
        case .unreachable, .apiError, .accessTokenInvalid: .badGateway
        }
    }

    /// The stable code in the JSON body.
    public var code: String {
        switch kind {
        case .badRequest: "bad_request"
        case .methodNotAllowed: "method_not_allowed"
        case .loginRequired: "login_required"
        case .codeInvalid: "wx_code_invalid"
        case .codeUsed: "wx_code_used"
        case .rateLimited: "wx_rate_limited"
        case .highRiskUser: "wx_high_risk_user"
        case .busy: "wx_busy"
        case .unreachable: "wx_unreachable"
        case .apiError, .accessTokenInvalid: "wx_api_error"
        case .sessionKeyStale: "session_key_stale"
        case .watermarkMismatch: "watermark_mismatch"
        case .storeUnavailable: "store_unavailable"
        }
    }

    /// A short, fixed, human-readable explanation.
    public var message: String {
        switch kind {
        case .badRequest: "The request body is not the JSON this endpoint expects."
        case .methodNotAllowed: "This endpoint takes POST only."
        case .loginRequired: "This needs a session logged in through WeChat; call wx.login and log in again."
        case .codeInvalid: "WeChat refused the code as invalid; call wx.login (or ask again) for a new one."
        case .codeUsed: "The code was used already; call wx.login (or ask again) for a new one."
        case .rateLimited: "WeChat rate-limits these calls; retry later."
        case .highRiskUser: "WeChat refused this user as high-risk."
        case .busy: "The WeChat API is busy; retry shortly."
        case .unreachable: "The WeChat API could not be reached."
        case .apiError, .accessTokenInvalid: "The WeChat API gave an unexpected answer."
        case .sessionKeyStale: "The session key does not match the data; call wx.login and log in again."
        case .watermarkMismatch: "The data was not issued for this mini-program."
        case .storeUnavailable: "The session store is unavailable; retry shortly."
        }
    }

    public var description: String {
        "\(code) (\(status.code))" + (apiCode.map { ", errcode \($0)" } ?? "")
    }

    /// The JSON body: `{"error":{"code":"...","message":"..."}}`.
    public var jsonBody: String {
        #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#
    }
}
