import Testing

@testable import TokenJarConfig

@Suite struct AdminConfigTests {
    @Test func offByDefault() {
        let admin = GatewayConfig().admin
        #expect(admin.listen == nil && !admin.isEnabled && admin.token.isEmpty)
    }

    @Test func fileAndEnvironment() throws {
        let config = try #require(load(
            yaml: "admin:\n  listen: \"127.0.0.1:9090\"\n",
            environment: ["TOKENJAR_ADMIN_TOKEN": "from-the-environment-0123"]))
        #expect(config.admin.listen == ListenAddress(host: "127.0.0.1", port: 9090))
        #expect(config.admin.token == "from-the-environment-0123")
        let fromEnvironment = try #require(load(yaml: "", environment: ["TOKENJAR_ADMIN_LISTEN": "[::1]:9191"]))
        #expect(fromEnvironment.admin.listen == ListenAddress(host: "::1", port: 9191))
        let off = try #require(load(yaml: "admin:\n  listen: \"\"\n"))
        #expect(!off.admin.isEnabled)
    }

    @Test func theTokenIsSecretAndLongEnough() throws {
        let key = try #require(ConfigRegistry.key(at: "admin.token"))
        #expect(key.key.isSecret)
        #expect(ConfigDocs.markdownTable().contains("| `admin.token` | string | `(secret)` | `TOKENJAR_ADMIN_TOKEN` |"))
        let short = problems(yaml: "", environment: ["TOKENJAR_ADMIN_TOKEN": "short-secret"])
        #expect(short.map(\.keyPath) == ["TOKENJAR_ADMIN_TOKEN"])
        #expect(!short.map(\.description).joined().contains("short-secret"))
        let spaced = problems(yaml: "admin:\n  token: \"has a space in the middle\"\n")
        #expect(spaced.map(\.keyPath) == ["admin.token"])
    }

    @Test func neverThePublicPort() {
        let same = problems(yaml: "server:\n  listen: \"127.0.0.1:8080\"\nadmin:\n  listen: \"127.0.0.1:8080\"\n")
        #expect(same.map(\.keyPath) == ["admin.listen"])
        #expect(same.first?.description.contains("public listener") == true)
        let wildcard = problems(yaml: "server:\n  listen: \"0.0.0.0:8080\"\nadmin:\n  listen: \"127.0.0.1:8080\"\n")
        #expect(wildcard.map(\.keyPath) == ["admin.listen"])
        #expect(problems(yaml: "server:\n  listen: \"127.0.0.1:8080\"\nadmin:\n  listen: \"127.0.0.1:9090\"\n").isEmpty)
        let badAddress = problems(yaml: "admin:\n  listen: \"9090\"\n")
        #expect(badAddress.map(\.keyPath) == ["admin.listen"])
    }
}
