import Logging
import NIOHTTP1
import ServiceLifecycle
import TokenJarGateway
import TokenJarStore

/// The gateway's own account endpoints, under the reserved prefix (`/_tokenjar`):
///
/// - `POST /logout` — always: revokes the session of the token.
/// - `POST /wx/login`, `POST /wx/decrypt`, `POST /wx/phone` — when WeChat is configured (an
///   appid); without it these paths are unknown (`404 not_found`).
///
/// It is also a service: run it in the same `ServiceGroup` as the gateway, placed before the
/// gateway, so that on shutdown the gateway drains first and the WeChat HTTP client closes after.
public final class WeChatEndpoints: GatewayEndpoints, Service {
    let settings: WeChatSettings?
    let api: WeChatAPIClient?
    let tokens: AccessTokenCache?
    let logger: Logger

    /// `settings` nil: logout only.
    public init(settings: WeChatSettings?, logger: Logger = Logger(label: "tokenjar.wechat")) {
        self.settings = settings
        self.logger = logger
        guard let settings else {
            api = nil
            tokens = nil
            return
        }
        let api = WeChatAPIClient(settings: settings)
        self.api = api
        self.tokens = AccessTokenCache(
            key: settings.accessTokenKey, refreshAhead: settings.tokenRefreshAhead, logger: logger
        ) { (now: Int64) async throws(WeChatError) -> AccessTokenCache.Token in
            let reply = try await api.stableToken()
            guard let value = reply.accessToken, !value.isEmpty, let expiresIn = reply.expiresIn, expiresIn > 0 else {
                throw .apiError
            }
            return AccessTokenCache.Token(value: value, expiresAt: now + expiresIn)
        }
    }

    public func handle(_ request: EndpointRequest, sessions: GatewaySessions) async -> EndpointResponse? {
        let handler: (@Sendable (EndpointRequest, GatewaySessions) async throws(WeChatError) -> EndpointResponse)?
        switch request.path {
        case "/logout": handler = logout
        case "/wx/login" where settings != nil: handler = login
        case "/wx/decrypt" where settings != nil: handler = decrypt
        case "/wx/phone" where settings != nil: handler = phone
        default: handler = nil
        }
        guard let handler else { return nil }
        guard request.method == .POST else { return EndpointBodies.error(.methodNotAllowed) }
        do {
            return try await handler(request, sessions)
        } catch {
            logger.notice("endpoint refused", metadata: Self.metadata(request, error))
            return EndpointBodies.error(error)
        }
    }

    /// Waits for graceful shutdown, then closes the WeChat HTTP client.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Closes the WeChat HTTP client; no request may follow.
    public func shutdown() async throws {
        try await api?.shutdown()
    }

    /// What a log line may say about a refused request: the endpoint, the stable code and the
    /// WeChat `errcode` — never the body, a code, a key or the API's `errmsg`.
    static func metadata(_ request: EndpointRequest, _ error: WeChatError) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["endpoint": "\(request.path)", "code": "\(error.code)"]
        if let errcode = error.apiCode { metadata["errcode"] = "\(errcode)" }
        return metadata
    }
}
