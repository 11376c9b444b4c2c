import NIOCore
import TokenJarConfig

/// What the WeChat endpoints need to call the WeChat API for one mini-program.
///
/// `description` never shows the secret, so a settings value may be logged or interpolated safely.
public struct WeChatSettings: Sendable, CustomStringConvertible {
    /// The mini-program's appid; decrypted data must carry it in `watermark.appid`.
    public var appID: String
    /// The app secret: sent to the API only, never logged or answered.
    public var secret: String
    /// `https://api.weixin.qq.com`, without a trailing slash; tests point it at a local fake.
    public var apiBase: String
    /// Time allowed for one call to the API, connecting included.
    public var timeout: TimeAmount
    /// How long before its expiry a cached `access_token` is replaced.
    public var tokenRefreshAhead: Int64
    /// Pause before the one retry after the API answers `-1` (system busy).
    public var busyRetryDelay: TimeAmount

    public init(
        appID: String, secret: String, apiBase: String = "https://api.weixin.qq.com",
        timeout: TimeAmount = .seconds(5), tokenRefreshAhead: Int64 = 300, busyRetryDelay: TimeAmount = .milliseconds(200)
    ) {
        self.appID = appID
        self.secret = secret
        var base = apiBase
        while base.hasSuffix("/") { base.removeLast() }
        self.apiBase = base
        self.timeout = timeout
        self.tokenRefreshAhead = tokenRefreshAhead
        self.busyRetryDelay = busyRetryDelay
    }

    /// The settings of a configuration, or nil when WeChat login is off (no appid).
    public init?(config: WeChatConfig) {
        guard config.isEnabled else { return nil }
        let (seconds, attoseconds) = config.timeout.components
        self.init(
            appID: config.appID, secret: config.secret, apiBase: config.apiBase.description,
            timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }

    public var description: String { "WeChatSettings(appid: \(appID), api: \(apiBase), secret: (secret))" }

    /// The key of the shared `access_token` in the store: one per app, so apps can share a store.
    var accessTokenKey: String { "wechat.access_token." + appID }
}
