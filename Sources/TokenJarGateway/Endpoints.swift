import NIOCore
import NIOHTTP1
import TokenJarStore

/// A request to one of the gateway's own endpoints, under the reserved prefix. Never forwarded.
public struct EndpointRequest: Sendable {
    public var method: HTTPMethod
    /// The path after the reserved prefix, without the query: `/wx/login`.
    public var path: String
    /// The query string, without `?` ("" when none).
    public var query: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// The token the client sent, when it is well-formed (it may still be unknown or expired).
    public var token: String?
    public var clientAddress: String?
}

/// What an endpoint answers.
public struct EndpointResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// A token to hand to the client in the token header (after a login rotated it).
    public var token: String?

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer = ByteBuffer(), token: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.token = token
    }

    /// A JSON answer; the body must already be JSON text.
    public static func json(_ status: HTTPResponseStatus, _ json: String, token: String? = nil) -> EndpointResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        return EndpointResponse(status: status, headers: headers, body: ByteBuffer(string: json), token: token)
    }

    /// A gateway error as JSON.
    public static func error(_ error: GatewayError) -> EndpointResponse {
        json(error.status, error.jsonBody)
    }
}

/// Gateway features reachable under the reserved prefix (WeChat login, logout, …).
public protocol GatewayEndpoints: Sendable {
    /// Answers the request, or returns nil when no endpoint has this path (the gateway then
    /// answers `404 not_found`).
    func handle(_ request: EndpointRequest, sessions: GatewaySessions) async -> EndpointResponse?
}

/// What endpoints may do with sessions: look one up, log it in (rotating its token), revoke it.
public struct GatewaySessions: Sendable {
    let manager: SessionManager
    let eventLoop: any EventLoop

    /// A view of a live session.
    public struct View: Sendable {
        public var tokenHash: TokenHash
        public var identity: SessionIdentity?
        public var createdAt: Int64
        public var expiresAt: Int64
    }

    /// The live session of a token, or nil when the token is unknown, expired or malformed.
    public func current(token: String?) async throws -> View? {
        guard let token, SessionToken.isWellFormed(token) else { return nil }
        let hash = SessionToken.hash(token)
        let now = manager.clock.nowSeconds()
        let session: ActiveSession?
        if let cached = manager.cached(hash, now: now) {
            session = cached
        } else {
            session = try await manager.load(hash, now: now, on: eventLoop).get()
        }
        return session.map {
            View(tokenHash: hash, identity: $0.snapshot.identity, createdAt: $0.snapshot.createdAt, expiresAt: $0.snapshot.expiresAt)
        }
    }

    /// Logs a session in: mints a new token bound to `identity`, carrying over the cookies of the
    /// session `token` names (when it is live), and retires the old token. Returns the new token.
    public func logIn(token: String?, identity: SessionIdentity) async throws -> String {
        let previous = try await current(token: token)
        return try await manager.logIn(replacing: previous?.tokenHash, identity: identity, on: eventLoop).get()
    }

    /// Revokes the session of a token (logout). Unknown tokens are ignored.
    public func revoke(token: String) async throws {
        guard SessionToken.isWellFormed(token) else { return }
        try await manager.revoke(SessionToken.hash(token), on: eventLoop).get()
    }

    /// The underlying store, for endpoint state shared between instances.
    public var store: any SessionStore { manager.store }

    /// Seconds since the Unix epoch, on the gateway's clock.
    public var now: Int64 { manager.clock.nowSeconds() }
}
