/// WeChat mini-program login at the gateway: the app's credentials, the API it calls and the
/// headers that carry the verified identity to the backends.
public struct WeChatConfig: Sendable, Equatable {
    /// The mini-program's appid; `""` turns WeChat login off.
    public var appID: String
    /// The app secret. Never shown in a message, a summary or the documentation.
    public var secret: String
    /// Where the WeChat API lives; tests point it at a local fake.
    public var apiBase: UpstreamURL
    /// Time allowed for one call to the WeChat API, connecting included.
    public var timeout: Duration
    /// The header that carries the session's openid to the backend.
    public var openIDHeader: String
    /// The header that carries the session's unionid to the backend, when WeChat gave one.
    public var unionIDHeader: String

    public init(
        appID: String = "",
        secret: String = "",
        apiBase: UpstreamURL = UpstreamURL(scheme: .https, host: "api.weixin.qq.com"),
        timeout: Duration = .seconds(5),
        openIDHeader: String = "X-WX-OpenID",
        unionIDHeader: String = "X-WX-UnionID"
    ) {
        self.appID = appID
        self.secret = secret
        self.apiBase = apiBase
        self.timeout = timeout
        self.openIDHeader = openIDHeader
        self.unionIDHeader = unionIDHeader
    }

    /// Whether WeChat login is on (an appid is set).
    public var isEnabled: Bool { !appID.isEmpty }
}

extension WeChatConfig {
    static let configKeys: [ConfigKey<WeChatConfig>] = [
        .key("appid", .weChatCredential("appid"), \.appID,
             doc: "The mini-program's appid. `\"\"` turns WeChat login off; set, it enables `/_tokenjar/wx/*` "
                + "and needs `secret`."),
        .key("secret", .weChatCredential("secret"), \.secret, secret: true,
             doc: "The mini-program's app secret, for `code2Session` and `stable_token`. Never logged or shown."),
        .key("api_base", .url, \.apiBase, doc: "Base URL of the WeChat API; redirects are never followed."),
        .key("timeout", .duration(), \.timeout, doc: "Time allowed for one call to the WeChat API, connecting included."),
        .key("openid_header", .identityHeaderName, \.openIDHeader,
             doc: "Header carrying a logged-in session's openid to the backend. Removed from every client request."),
        .key("unionid_header", .identityHeaderName, \.unionIDHeader,
             doc: "Header carrying the session's unionid, when WeChat gives one. Removed from every client request."),
    ]

    /// Rules between keys of this section, and with the token header and the routes.
    func problems(tokenHeader: String, routes: [RouteConfig]) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        if isEnabled && secret.isEmpty {
            problems.append(ConfigProblem(
                .missing, keyPath: "wechat.secret", message: "required when wechat.appid is set"))
        }
        if !isEnabled && !secret.isEmpty {
            problems.append(ConfigProblem(
                .conflict, keyPath: "wechat.appid", message: "required when wechat.secret is set"))
        }
        if openIDHeader.lowercased() == unionIDHeader.lowercased() {
            problems.append(ConfigProblem(
                .conflict, keyPath: "wechat.unionid_header", message: "must differ from wechat.openid_header"))
        }
        for (key, name) in [("openid_header", openIDHeader), ("unionid_header", unionIDHeader)]
        where name.lowercased() == tokenHeader.lowercased() {
            problems.append(ConfigProblem(
                .conflict, keyPath: "wechat.\(key)", message: "must differ from server.token_header"))
        }
        if !isEnabled {
            for (index, route) in routes.enumerated() where route.auth == .wechat {
                problems.append(ConfigProblem(
                    .conflict, keyPath: "routes[\(index)].auth",
                    message: "'wechat' needs wechat.appid; without it no session could ever log in"))
            }
        }
        return problems
    }
}

extension ConfigValueType where Value == String {
    /// An appid or a secret: `""`, or up to 128 letters and digits.
    static func weChatCredential(_ what: String) -> Self {
        .string("string") { text throws(ConfigValueError) in
            let value = text.trimmingSpaces()
            guard value.count <= 128, value.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit }) else {
                throw ConfigValueError("a WeChat \(what) is made of letters and digits only")
            }
            return value
        }
    }

    /// A header name that may carry an identity to the backend.
    static var identityHeaderName: Self { carrierHeaderName(carrying: "an identity") }
}
