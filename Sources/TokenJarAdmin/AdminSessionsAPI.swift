import Hummingbird
import Logging
import NIOCore
import NIOPosix
import TokenJarGateway
import TokenJarStore

/// The sessions API, behind the admin bearer token:
///
/// - `GET /sessions`: counts; `GET /sessions?prefix=HEX` or `?openid=ID`: matching sessions.
/// - `GET /sessions/HEX`: the one session whose hash starts with HEX, its jar's values redacted
///   unless `?reveal=true`.
/// - `DELETE /sessions/HEX`: revokes that session; `DELETE /sessions?openid=ID`: revokes every
///   session of the openid.
///
/// A revoke deletes from the store and then drops the sessions from the gateway's cache, so the
/// revoked token reaches the backend with its jar no more.
struct AdminSessionsAPI: Sendable {
    let gateway: GatewayServer
    let store: any SessionStore
    let auth: AdminAuth
    let logger: Logger

    /// Shortest hash prefix accepted, in hex digits.
    static let minimumPrefix = 6
    static let defaultLimit = 50
    static let maximumLimit = 1000

    func register(on router: Router<BasicRequestContext>) {
        router.get("/sessions") { request, _ in
            await guarded(request) { try await list(request) }
        }
        router.get("/sessions/:prefix") { request, context in
            await guarded(request) { try await show(prefix: context.parameters.get("prefix") ?? "", request: request) }
        }
        router.delete("/sessions/:prefix") { request, context in
            await guarded(request) { try await revoke(prefix: context.parameters.get("prefix") ?? "") }
        }
        router.delete("/sessions") { request, _ in
            await guarded(request) { try await revokeAll(request) }
        }
    }

    /// Checks the token, runs `body`, and turns its errors into JSON answers.
    private func guarded(_ request: Request, _ body: () async throws -> Response) async -> Response {
        do {
            try auth.check(request)
            return try await body()
        } catch let error as AdminError {
            return error.response
        } catch {
            logger.warning("admin: store call failed", metadata: ["error": "\(error)"])
            gateway.metrics.storeFailed()
            return AdminError.storeUnavailable.response
        }
    }

    private func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let prefix = query.get("prefix")
        let openID = query.get("openid")
        let limit = min(max(query.get("limit").flatMap { Int($0) } ?? Self.defaultLimit, 1), Self.maximumLimit)
        switch (prefix, openID) {
        case (nil, nil):
            return AdminJSON.response(.ok, encoding: CountsView(try await store.stats()))
        case (let prefix?, nil):
            let hex = try Self.validPrefix(prefix)
            let found = try await store.sessions(hashPrefix: hex, limit: limit + 1)
            return AdminJSON.response(.ok, encoding: SessionListView(
                sessions: found.prefix(limit).map { SessionView($0, jar: nil) }, truncated: found.count > limit))
        case (nil, let openID?):
            let found = try await store.sessions(openID: openID)
            return AdminJSON.response(.ok, encoding: SessionListView(
                sessions: found.prefix(limit).map { SessionView($0, jar: nil) }, truncated: found.count > limit))
        default:
            throw AdminError.badQuery
        }
    }

    private func show(prefix: String, request: Request) async throws -> Response {
        let record = try await uniqueSession(prefix)
        let reveal = request.uri.queryParameters.get("reveal").map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
        if reveal {
            logger.notice("admin: jar revealed", metadata: ["session": "\(record.tokenHash.shortHex)"])
        }
        return AdminJSON.response(.ok, encoding: SessionView(record, jar: reveal ? .revealed : .redacted))
    }

    private func revoke(prefix: String) async throws -> Response {
        let record = try await uniqueSession(prefix)
        try await store.delete(record.tokenHash, on: MultiThreadedEventLoopGroup.singleton.any()).get()
        gateway.forgetCachedSessions([record.tokenHash])
        logger.notice("admin: session revoked", metadata: ["session": "\(record.tokenHash.shortHex)"])
        return AdminJSON.response(.ok, encoding: RevokedView(revoked: 1, hashes: [record.tokenHash.hex]))
    }

    private func revokeAll(_ request: Request) async throws -> Response {
        guard let openID = request.uri.queryParameters.get("openid"), !openID.isEmpty else { throw AdminError.badQuery }
        let hashes = try await store.sessions(openID: openID).map(\.tokenHash)
        let removed = try await store.deleteSessions(openID: openID)
        gateway.forgetCachedSessions(hashes)
        logger.notice("admin: sessions of an openid revoked", metadata: ["count": "\(removed)"])
        return AdminJSON.response(.ok, encoding: RevokedView(revoked: removed, hashes: hashes.map(\.hex)))
    }

    /// The one session whose hash starts with `prefix`.
    private func uniqueSession(_ prefix: String) async throws -> SessionRecord {
        let hex = try Self.validPrefix(prefix)
        let found = try await store.sessions(hashPrefix: hex, limit: 2)
        guard let first = found.first else { throw AdminError.notFound }
        guard found.count == 1 else { throw AdminError.ambiguous }
        return first
    }

    /// 6 to 64 hex digits, in lower case.
    static func validPrefix(_ text: String) throws(AdminError) -> String {
        let hex = text.lowercased()
        guard hex.utf8.count >= minimumPrefix, hex.utf8.count <= 64,
              hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw .prefixTooShort
        }
        return hex
    }
}
