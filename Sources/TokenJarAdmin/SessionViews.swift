import CookieEngine
import TokenJarStore

/// What the sessions API shows of a store's counts.
struct CountsView: Codable, Sendable {
    var sessions: Int
    var loggedIn: Int
    var cookies: Int

    enum CodingKeys: String, CodingKey {
        case sessions
        case loggedIn = "logged_in"
        case cookies
    }

    init(_ stats: StoreStats) {
        sessions = stats.sessions
        loggedIn = stats.loggedIn
        cookies = stats.cookies
    }
}

/// One session as the sessions API lists it. Never its token (the store does not have it) nor
/// its sealed WeChat session key; the hash is the SHA-256 of the token.
struct SessionView: Codable, Sendable {
    var hash: String
    var createdAt: Int64
    var lastSeenAt: Int64
    var expiresAt: Int64
    var openID: String?
    var unionID: String?
    var cookieCount: Int
    /// The jar, only when one session is shown.
    var cookies: [CookieView]?

    enum CodingKeys: String, CodingKey {
        case hash
        case createdAt = "created_at"
        case lastSeenAt = "last_seen_at"
        case expiresAt = "expires_at"
        case openID = "openid"
        case unionID = "unionid"
        case cookieCount = "cookie_count"
        case cookies
    }

    init(_ record: SessionRecord, jar: CookieView.Mode?) {
        hash = record.tokenHash.hex
        createdAt = record.createdAt
        lastSeenAt = record.lastSeenAt
        expiresAt = record.expiresAt
        openID = record.identity?.openID
        unionID = record.identity?.unionID
        cookieCount = record.cookies.count
        cookies = jar.map { mode in record.cookies.map { CookieView($0, mode: mode) } }
    }
}

/// One cookie of a jar, decoded from the cookie engine's stored form.
struct CookieView: Codable, Sendable {
    enum Mode: Sendable {
        case redacted
        case revealed
    }

    /// What stands in for a value that is not revealed.
    static let redactedValue = "(redacted)"

    var name: String
    var value: String
    var domain: String
    var path: String
    /// Unix seconds; nil for a session cookie.
    var expiresAt: Int64?
    var hostOnly: Bool?
    var secure: Bool?
    var httpOnly: Bool?
    var sameSite: String?
    /// The stored payload could not be decoded (written by a newer version).
    var undecodable: Bool?

    enum CodingKeys: String, CodingKey {
        case name, value, domain, path
        case expiresAt = "expires_at"
        case hostOnly = "host_only"
        case secure
        case httpOnly = "http_only"
        case sameSite = "same_site"
        case undecodable
    }

    init(_ record: CookieRecord, mode: Mode) {
        name = record.name
        domain = record.domain
        path = record.path
        expiresAt = record.expiresAt
        guard let cookie = try? CookieCodec.decode(record.payload) else {
            value = Self.redactedValue
            undecodable = true
            return
        }
        value = mode == .revealed ? cookie.value : Self.redactedValue
        expiresAt = cookie.expiry?.unixSeconds
        hostOnly = cookie.hostOnly
        secure = cookie.secure
        httpOnly = cookie.httpOnly
        sameSite = cookie.sameSite.description
    }
}

/// A list of sessions; `truncated` when more matched than the limit.
struct SessionListView: Codable, Sendable {
    var sessions: [SessionView]
    var truncated: Bool
}

/// What a revoke removed.
struct RevokedView: Codable, Sendable {
    var revoked: Int
    var hashes: [String]
}
