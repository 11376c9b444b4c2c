import Testing

@testable import TokenJarConfig

@Suite struct WeChatConfigTests {
    static let routes = """
        routes:
          - name: members
            path_prefix: /members
            upstreams: ["http://127.0.0.1:9000"]
            auth: wechat
        """

    @Test func defaultsAreOff() {
        let wechat = GatewayConfig().wechat
        #expect(wechat.appID == "" && wechat.secret == "" && !wechat.isEnabled)
        #expect(wechat.apiBase.description == "https://api.weixin.qq.com")
        #expect(wechat.timeout == .seconds(5))
        #expect(wechat.openIDHeader == "X-WX-OpenID" && wechat.unionIDHeader == "X-WX-UnionID")
        #expect(RouteConfig().auth == RouteAuth.none)
    }

    @Test func fileAndEnvironment() throws {
        let yaml = """
            wechat:
              appid: wxfile
              secret: filesecret
              api_base: http://127.0.0.1:9911
            """ + "\n" + Self.routes
        let config = try ConfigLoader.load(yaml: yaml, environment: [
            "TOKENJAR_WECHAT_APPID": "wxenv", "TOKENJAR_WECHAT_SECRET": "envsecret",
            "TOKENJAR_WECHAT_API_BASE": "http://127.0.0.1:9922",
        ])
        #expect(config.wechat.appID == "wxenv" && config.wechat.secret == "envsecret")
        #expect(config.wechat.apiBase.description == "http://127.0.0.1:9922")
        #expect(config.routes[0].auth == .wechat)
        for name in ["TOKENJAR_WECHAT_APPID", "TOKENJAR_WECHAT_SECRET", "TOKENJAR_WECHAT_API_BASE",
                     "TOKENJAR_WECHAT_TIMEOUT", "TOKENJAR_WECHAT_OPENID_HEADER", "TOKENJAR_WECHAT_UNIONID_HEADER"] {
            #expect(ConfigBuilder.knownVariables.contains(name), "\(name)")
        }
    }

    @Test func theSecretIsSecret() throws {
        let key = try #require(ConfigRegistry.key(at: "wechat.secret"))
        #expect(key.key.isSecret)
        #expect(ConfigDocs.markdownTable().contains("| `wechat.secret` | string | `(secret)` | `TOKENJAR_WECHAT_SECRET` |"))
        let found = problems(yaml: "wechat:\n  appid: wxa\n  secret: \"not valid!\"\n")
        #expect(found.map(\.keyPath) == ["wechat.secret"])
        #expect(!found.map(\.description).joined().contains("not valid"))
    }

    @Test func rulesBetweenKeys() {
        #expect(problems(yaml: "wechat:\n  appid: wxa\n").map(\.keyPath) == ["wechat.secret"])
        #expect(problems(yaml: "wechat:\n  secret: abc\n").map(\.keyPath) == ["wechat.appid"])
        #expect(problems(yaml: Self.routes).map(\.keyPath) == ["routes[0].auth"])
        #expect(problems(yaml: "wechat:\n  openid_header: X-Id\n  unionid_header: x-id\n").map(\.keyPath)
            == ["wechat.unionid_header"])
        #expect(problems(yaml: "wechat:\n  openid_header: X-Session-Token\n").map(\.keyPath) == ["wechat.openid_header"])
        #expect(problems(yaml: "wechat:\n  openid_header: Cookie\n").map(\.keyPath) == ["wechat.openid_header"])
        #expect(problems(yaml: "wechat:\n  appid: wxa\n  secret: abc\n" + Self.routes).isEmpty)
        #expect(problems(yaml: "routes:\n  - upstreams: [\"http://127.0.0.1:9\"]\n    auth: sometimes\n").map(\.keyPath)
            == ["routes[0].auth"])
        #expect(problems(yaml: "wechat:\n  api_base: ftp://x\n").map(\.keyPath) == ["wechat.api_base"])
    }
}
