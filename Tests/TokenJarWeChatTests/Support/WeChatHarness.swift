import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing
import TokenJarGateway
import TokenJarStore
@testable import TokenJarWeChat

/// The whole setting of a test: the fake WeChat API, a backend, the gateway with the WeChat
/// endpoints in front of it, and every log line they write.
///
/// Routes: `/members…` needs a WeChat login (`auth: wechat`), everything else is open.
/// `stop()` stops every server and checks that no secret reached the logs.
final class WeChatHarness: Sendable {
    static let appID = "wx5e1f0c3a9b7d2e48"
    static let secret = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"

    let fake: FakeWeChatAPI
    let backend: TestBackend
    let gateway: RunningGateway
    let endpoints: WeChatEndpoints
    let logs: LogCapture
    /// Strings that must never appear in a log line: the secret, every login and phone code
    /// and every session key used by the test. Tests add theirs.
    let secrets: NIOLockedStrings

    static func start(
        wechat: Bool = true, apiBase: String? = nil, tokenDelay: TimeAmount = .milliseconds(300),
        store: any SessionStore = MemorySessionStore()
    ) async throws -> WeChatHarness {
        let logs = LogCapture()
        let fake = try await FakeWeChatAPI.start(appID: appID, secret: secret, tokenDelay: tokenDelay)
        let backend = try await startWeChatBackend()
        let settings = wechat
            ? WeChatSettings(
                appID: appID, secret: secret, apiBase: apiBase ?? fake.baseURL, timeout: .seconds(2),
                busyRetryDelay: .milliseconds(20))
            : nil
        let endpoints = WeChatEndpoints(settings: settings, logger: logs.logger("tokenjar.wechat"))
        let upstream = Upstream(host: "127.0.0.1", port: backend.port)
        let gateway = try await RunningGateway.start(
            routes: [
                RouteSpec(name: "members", pathPrefix: "/members", upstreams: [upstream], requiresLogin: true),
                RouteSpec(upstreams: [upstream]),
            ],
            store: store, configure: { $0.proxy.accessLog = true }, logger: logs.logger("tokenjar"),
            endpoints: endpoints)
        let harness = WeChatHarness(fake: fake, backend: backend, gateway: gateway, endpoints: endpoints, logs: logs)
        harness.secrets.add(secret)
        return harness
    }

    private init(fake: FakeWeChatAPI, backend: TestBackend, gateway: RunningGateway, endpoints: WeChatEndpoints, logs: LogCapture) {
        self.fake = fake
        self.backend = backend
        self.gateway = gateway
        self.endpoints = endpoints
        self.logs = logs
        self.secrets = NIOLockedStrings()
    }

    /// Stops everything; then no log line may hold a secret.
    func stop() async throws {
        try await gateway.stop()
        try await endpoints.shutdown()
        await backend.stop()
        await fake.stop()
        let leaked = logs.lines(containingAnyOf: secrets.all)
        #expect(leaked.isEmpty, "secrets in the logs: \(leaked)")
    }

    // MARK: Client calls

    func call(
        _ path: String, token: String?, method: HTTPMethod = .GET, body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> ClientResponse {
        var all = headers
        if let token { all.append(("X-Session-Token", token)) }
        if body != nil { all.append(("Content-Type", "application/json")) }
        return try await TestHTTPClient.request(port: gateway.port, method: method, path: path, headers: all, body: body)
    }

    /// A fresh anonymous session with the backend's `JSESSIONID` in its jar.
    func anonymousSession() async throws -> String {
        let first = try await call("/start", token: nil)
        return try #require(first.headers.first(name: "X-Session-Token"))
    }

    /// A login code for a new user; its code and session key become secrets of the test.
    @discardableResult
    func issueCode(_ code: String, openID: String, unionID: String? = nil, sessionKey: [UInt8] = randomKey()) -> FakeWeChatAPI.User {
        let user = FakeWeChatAPI.User(openID: openID, unionID: unionID, sessionKey: Data(sessionKey).base64EncodedString())
        fake.addLoginCode(code, user)
        secrets.add(code)
        secrets.add(user.sessionKey)
        return user
    }

    func login(code: String, token: String?) async throws -> ClientResponse {
        try await call("/_tokenjar/wx/login", token: token, method: .POST, body: #"{"code":"\#(code)"}"#)
    }

    /// Logs a new user in from a fresh anonymous session; returns the rotated token.
    func loggedInSession(code: String, openID: String, unionID: String? = nil, sessionKey: [UInt8] = randomKey()) async throws -> String {
        issueCode(code, openID: openID, unionID: unionID, sessionKey: sessionKey)
        let response = try await login(code: code, token: try await anonymousSession())
        #expect(response.status == .ok, "\(response.body)")
        return try #require(response.headers.first(name: "X-Session-Token"))
    }
}

func randomKey() -> [UInt8] {
    (0..<16).map { _ in UInt8.random(in: 0...255) }
}

/// A growing list of strings shared across tasks.
final class NIOLockedStrings: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    func add(_ value: String) { box.withLockedValue { $0.append(value) } }
    var all: [String] { box.withLockedValue { $0 } }
}

/// Runs `body` with a started harness and stops it afterwards, also when `body` throws.
func withHarness(
    wechat: Bool = true, apiBase: String? = nil, tokenDelay: TimeAmount = .milliseconds(300),
    store: any SessionStore = MemorySessionStore(), _ body: (WeChatHarness) async throws -> Void
) async throws {
    let harness = try await WeChatHarness.start(wechat: wechat, apiBase: apiBase, tokenDelay: tokenDelay, store: store)
    do {
        try await body(harness)
    } catch {
        try? await harness.stop()
        throw error
    }
    try await harness.stop()
}
