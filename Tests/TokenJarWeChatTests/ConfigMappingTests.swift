import Testing
import TokenJarConfig
import TokenJarGateway
@testable import TokenJarWeChat

/// The configuration reaches the data plane and the endpoints.
@Suite("WeChat configuration mapping")
struct ConfigMappingTests {
    static let yaml = """
        server:
          token_header: "X-Token"
        wechat:
          appid: "wx5e1f0c3a9b7d2e48"
          api_base: "http://127.0.0.1:9911/"
          timeout: 3s
          openid_header: "X-User-OpenID"
          unionid_header: "X-User-UnionID"
        routes:
          - name: "members"
            path_prefix: "/members"
            upstreams: ["http://127.0.0.1:9000"]
            auth: wechat
          - name: "default"
            upstreams: ["http://127.0.0.1:9000"]
        """

    @Test("auth: wechat becomes requiresLogin; identity header names reach the proxy")
    func gatewayOptions() throws {
        let config = try ConfigLoader.load(yaml: Self.yaml, environment: ["TOKENJAR_WECHAT_SECRET": "abc123"])
        let options = try GatewayOptions(config: config)
        #expect(options.routes.routes.map(\.requiresLogin) == [true, false])
        #expect(options.proxy.identityHeaders == ["X-User-OpenID", "X-User-UnionID"])

        let settings = try #require(WeChatSettings(config: config.wechat))
        #expect(settings.appID == "wx5e1f0c3a9b7d2e48" && settings.secret == "abc123")
        #expect(settings.apiBase == "http://127.0.0.1:9911")
        #expect(settings.timeout == .seconds(3))
        #expect(!"\(settings)".contains("abc123"))
    }

    @Test("defaults: WeChat off, the X-WX identity headers, api.weixin.qq.com")
    func defaults() throws {
        let config = try ConfigLoader.defaults(environment: ["TOKENJAR_ROUTES_UPSTREAMS": "http://127.0.0.1:9000"])
        #expect(WeChatSettings(config: config.wechat) == nil)
        #expect(try GatewayOptions(config: config).proxy.identityHeaders == ["X-WX-OpenID", "X-WX-UnionID"])
        #expect(try GatewayOptions(config: config).routes.routes.allSatisfy { !$0.requiresLogin })
        #expect(config.wechat.apiBase.description == "https://api.weixin.qq.com")
    }
}
