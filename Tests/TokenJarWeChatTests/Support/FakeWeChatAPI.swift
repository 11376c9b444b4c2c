import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An in-process fake of the WeChat API on 127.0.0.1, port 0: `jscode2session`, `stable_token`
/// and `getuserphonenumber` with their documented fields and error codes, counting every call.
///
/// Login codes are single-use: a known code answers once (`40163` afterwards), an unknown one
/// `40029`. A few codes script the other errors: `code-rate-limited` (45011), `code-high-risk` (40226),
/// `code-busy-once…` (-1 on the first call, then an answer), `code-busy` (-1 always),
/// `code-garbled` (not JSON), `code-moved` (a 302 redirect, which must not be followed).
final class FakeWeChatAPI: Sendable {
    struct User: Sendable {
        var openID: String
        var unionID: String?
        /// Base64 of 16 bytes, as `session_key` is.
        var sessionKey: String
    }

    struct Phone: Sendable {
        var phoneNumber: String
        var purePhoneNumber: String
        var countryCode: String
    }

    /// A request as the fake received it.
    struct Received: Sendable {
        var method: HTTPMethod
        var uri: String
        var body: String
        var path: String { String(uri.prefix { $0 != "?" }) }
        var query: [String: String] {
            guard let start = uri.firstIndex(of: "?") else { return [:] }
            var out: [String: String] = [:]
            for pair in uri[uri.index(after: start)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                out[parts[0]] = parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : ""
            }
            return out
        }
    }

    struct State: Sendable {
        var users: [String: User] = [:]
        var usedCodes: Set<String> = []
        var busyAnswered: Set<String> = []
        var phones: [String: Phone] = [:]
        var usedPhoneCodes: Set<String> = []
        var validTokens: Set<String> = []
        var tokensIssued = 0
        var phoneWatermarkAppID: String?
        var received: [Received] = []
    }

    let appID: String
    let secret: String
    /// How long `stable_token` takes to answer, so that concurrent callers overlap it.
    let tokenDelay: TimeAmount
    let state = NIOLockedValueBox(State())
    private let channel: any Channel

    var port: Int { channel.localAddress!.port! }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start(appID: String, secret: String, tokenDelay: TimeAmount = .milliseconds(300)) async throws -> FakeWeChatAPI {
        let box = NIOLockedValueBox<FakeWeChatAPI?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeHandler(api: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let api = FakeWeChatAPI(appID: appID, secret: secret, tokenDelay: tokenDelay, channel: channel)
        box.withLockedValue { $0 = api }
        return api
    }

    private init(appID: String, secret: String, tokenDelay: TimeAmount, channel: any Channel) {
        self.appID = appID
        self.secret = secret
        self.tokenDelay = tokenDelay
        self.channel = channel
    }

    func stop() async {
        try? await channel.close()
    }

    /// Issues a login code for `user`, as `wx.login` would.
    func addLoginCode(_ code: String, _ user: User) {
        state.withLockedValue { $0.users[code] = user }
    }

    func addPhoneCode(_ code: String, _ phone: Phone) {
        state.withLockedValue { $0.phones[code] = phone }
    }

    /// Makes every issued access token invalid (as a forced refresh elsewhere would).
    func invalidateTokens() {
        state.withLockedValue { $0.validTokens = [] }
    }

    /// Calls received on a path such as `/sns/jscode2session`.
    func calls(_ path: String) -> Int {
        state.withLockedValue { $0.received.count { $0.path == path } }
    }

    var received: [Received] { state.withLockedValue { $0.received } }

    // MARK: Answers

    struct Reply {
        var status: HTTPResponseStatus = .ok
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        var body: String
        var delay: TimeAmount = .zero
    }

    private static func error(_ code: Int, _ message: String) -> Reply {
        Reply(body: #"{"errcode":\#(code),"errmsg":"\#(message), rid: 6f1e0a2b-1c2d"}"#)
    }

    func answer(_ request: Received) -> Reply {
        state.withLockedValue { $0.received.append(request) }
        switch (request.method, request.path) {
        case (.GET, "/sns/jscode2session"): return code2Session(request.query)
        case (.POST, "/cgi-bin/stable_token"): return stableToken(request.body)
        case (.POST, "/wxa/business/getuserphonenumber"): return phoneNumber(request.query, request.body)
        default: return Reply(status: .notFound, body: "not found")
        }
    }

    private func code2Session(_ query: [String: String]) -> Reply {
        guard query["appid"] == appID else { return Self.error(40013, "invalid appid") }
        guard query["secret"] == secret else { return Self.error(40125, "invalid appsecret") }
        guard query["grant_type"] == "authorization_code" else { return Self.error(40002, "invalid grant_type") }
        guard let code = query["js_code"], !code.isEmpty else { return Self.error(41008, "missing code") }
        switch code {
        case "code-rate-limited": return Self.error(45011, "api minute-quota reach limit")
        case "code-high-risk": return Self.error(40226, "high risk user")
        case "code-busy": return Self.error(-1, "system error")
        case "code-garbled": return Reply(headers: [("Content-Type", "text/html")], body: "<html>busy</html>")
        case "code-moved": return Reply(status: .found, headers: [("Location", "http://127.0.0.1:1/elsewhere")], body: "")
        default: break
        }
        return state.withLockedValue { state in
            if code.hasPrefix("code-busy-once"), state.busyAnswered.insert(code).inserted {
                return Self.error(-1, "system error")
            }
            if state.usedCodes.contains(code) { return Self.error(40163, "code been used") }
            guard let user = state.users[code] else { return Self.error(40029, "invalid code") }
            state.usedCodes.insert(code)
            var fields = [#""openid":"\#(user.openID)""#, #""session_key":"\#(user.sessionKey)""#]
            if let union = user.unionID { fields.append(#""unionid":"\#(union)""#) }
            return Reply(body: "{" + fields.joined(separator: ",") + "}")
        }
    }

    private func stableToken(_ body: String) -> Reply {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            json["grant_type"] as? String == "client_credential"
        else { return Self.error(40002, "invalid grant_type") }
        guard json["appid"] as? String == appID else { return Self.error(40013, "invalid appid") }
        guard json["secret"] as? String == secret else { return Self.error(40125, "invalid appsecret") }
        let token = state.withLockedValue { state in
            state.tokensIssued += 1
            let token = "ACCESS-TOKEN-\(state.tokensIssued)"
            state.validTokens.insert(token)
            return token
        }
        return Reply(body: #"{"access_token":"\#(token)","expires_in":7200}"#, delay: tokenDelay)
    }

    private func phoneNumber(_ query: [String: String], _ body: String) -> Reply {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let code = json["code"] as? String
        else { return Self.error(47001, "data format error") }
        return state.withLockedValue { state in
            guard let token = query["access_token"], state.validTokens.contains(token) else {
                return Self.error(40001, "invalid credential, access_token is invalid or not latest")
            }
            if code == "phone-rate-limited" { return Self.error(45011, "api minute-quota reach limit") }
            if state.usedPhoneCodes.contains(code) { return Self.error(40163, "code been used") }
            guard let phone = state.phones[code] else { return Self.error(40029, "invalid code") }
            state.usedPhoneCodes.insert(code)
            let stamp = state.phoneWatermarkAppID ?? appID
            return Reply(body: """
                {"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"\(phone.phoneNumber)",\
                "purePhoneNumber":"\(phone.purePhoneNumber)","countryCode":"\(phone.countryCode)",\
                "watermark":{"timestamp":1700000000,"appid":"\(stamp)"}}}
                """)
        }
    }
}

private final class FakeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: NIOLockedValueBox<FakeWeChatAPI?>
    var head: HTTPRequestHead?
    var body = ""

    init(api: NIOLockedValueBox<FakeWeChatAPI?>) { self.api = api }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = ""
        case .body(let b):
            body += String(buffer: b)
        case .end:
            guard let head, let api = api.withLockedValue({ $0 }) else { return }
            let reply = api.answer(.init(method: head.method, uri: head.uri, body: body))
            let version = head.version
            let send = {
                var headers = HTTPHeaders()
                for (n, v) in reply.headers { headers.add(name: n, value: v) }
                headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
                context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: reply.status, headers: headers))), promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
            if reply.delay > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: reply.delay) { send() }
            } else {
                send()
            }
            self.head = nil
        }
    }
}
