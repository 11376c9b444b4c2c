import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// The reserved-prefix endpoint hook, with a stand-in login endpoint: login rotates the token
/// and carries the jar, the identity reaches the backend, and `requiresLogin` routes refuse
/// anonymous sessions.
@Suite("Gateway endpoints")
struct EndpointHookTests {
    struct FixedLogin: GatewayEndpoints {
        func handle(_ request: EndpointRequest, sessions: GatewaySessions) async -> EndpointResponse? {
            switch (request.method, request.path) {
            case (.POST, "/login"):
                let body = String(buffer: request.body)
                guard let token = try? await sessions.logIn(token: request.token, identity: SessionIdentity(openID: body, unionID: "u-" + body)) else {
                    return .error(.storeUnavailable)
                }
                return .json(.ok, #"{"logged_in":true}"#, token: token)
            case (.POST, "/logout"):
                if let token = request.token { try? await sessions.revoke(token: token) }
                return .json(.ok, #"{"logged_out":true}"#)
            default:
                return nil
            }
        }
    }

    @Test("login rotates the token, keeps the jar, and sends the identity to the backend")
    func loginFlow() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            req.uri == "/start" ? BackendResponse(headers: [("Set-Cookie", "JSESSIONID=j1; Path=/")]) : BackendResponse()
        }
        let gateway = try await RunningGateway.start(
            routes: [
                RouteSpec(name: "members", pathPrefix: "/members", upstreams: [upstream(backend.port)], requiresLogin: true),
                RouteSpec(upstreams: [upstream(backend.port)]),
            ],
            endpoints: FixedLogin())
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        func call(_ path: String, _ token: String?, method: HTTPMethod = .GET, body: String? = nil) async throws -> ClientResponse {
            try await TestHTTPClient.request(
                group: testGroup, port: gateway.port, method: method, path: path,
                headers: token.map { [("X-Session-Token", $0), ("X-WX-OpenID", "forged")] } ?? [], body: body)
        }

        let anonymous = try #require(try await call("/start", nil).headers.first(name: "X-Session-Token"))
        let refused = try await call("/members/home", anonymous)
        #expect(refused.status == .unauthorized)
        #expect(refused.body.contains(#""code":"login_required""#))
        #expect(backend.requests.last?.headers.first(name: "x-wx-openid") == nil, "a forged identity never reaches the backend")

        let login = try await call("/_tokenjar/login", anonymous, method: .POST, body: "openid-1")
        #expect(login.status == .ok)
        let loggedIn = try #require(login.headers.first(name: "X-Session-Token"))
        #expect(loggedIn != anonymous)

        let member = try await call("/members/home", loggedIn)
        #expect(member.status == .ok)
        let seen = try #require(backend.requests.last).headers
        #expect(seen["x-wx-openid"] == ["openid-1"])
        #expect(seen["x-wx-unionid"] == ["u-openid-1"])
        #expect(seen.first(name: "cookie") == "JSESSIONID=j1", "the anonymous jar is carried over")

        // The old token is retired: it gets a fresh anonymous session, without the jar.
        let old = try await call("/", anonymous)
        #expect(old.headers.first(name: "X-Session-Token") != nil)
        #expect(backend.requests.last?.headers.first(name: "cookie") == nil)

        _ = try await call("/_tokenjar/logout", loggedIn, method: .POST)
        #expect(try await call("/members/home", loggedIn).status == .unauthorized)
        #expect(try await call("/_tokenjar/unknown", loggedIn).status == .notFound)
    }
}
