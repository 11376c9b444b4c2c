import NIOCore
import NIOPosix
import TokenJarGateway
import TokenJarStore
import TokenJarTestSupport

/// A backend with a cookie session: `/login?v=VALUE` sets `PHPSESSID=VALUE`; every other path
/// answers with the Cookie header it received, so a test sees what the jar sent.
enum JarBackend {
    static let respond: @Sendable (ReceivedRequest) -> BackendResponse = { request in
        if request.uri.hasPrefix("/login?v=") {
            let value = String(request.uri.dropFirst("/login?v=".count))
            return BackendResponse(headers: [("Set-Cookie", "PHPSESSID=\(value); Path=/; HttpOnly")], body: "logged in")
        }
        return BackendResponse(body: request.headers["Cookie"].joined(separator: "; "))
    }
}

extension AdminHarness {
    /// Starts a session through the gateway whose jar holds `PHPSESSID=value`; returns its token.
    func session(withCookie value: String) async throws -> String {
        let response = try await proxy("/login?v=\(value)")
        guard response.status == .ok, let token = response.headers.first(name: "X-Session-Token") else {
            throw HarnessError("no token minted: \(response.status) \(response.body)")
        }
        return token
    }

    /// Logs the session of `token` in as `openID`, in the store.
    func setOpenID(_ openID: String, for token: String) async throws {
        try await store.setIdentity(
            SessionToken.hash(token), SessionIdentity(openID: openID), on: MultiThreadedEventLoopGroup.singleton.any()
        ).get()
    }

    /// The Cookie header the backend receives for a request with `token`.
    func cookieSent(with token: String) async throws -> String {
        let response = try await proxy("/echo", token: token)
        guard response.status == .ok else { throw HarnessError("echo failed: \(response.status) \(response.body)") }
        return response.body
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
