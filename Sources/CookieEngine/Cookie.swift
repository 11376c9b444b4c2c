/// The SameSite attribute of a cookie (RFC 6265bis §5.6.7). The gateway stores it faithfully;
/// it has no cross-site requests to enforce it on.
public enum SameSite: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No SameSite attribute, or an unrecognised value ("Default" enforcement in RFC 6265bis).
    case unspecified = 0
    /// `SameSite=None` (requires Secure).
    case noRestriction = 1
    /// `SameSite=Lax`.
    case lax = 2
    /// `SameSite=Strict`.
    case strict = 3

    public var description: String {
        switch self {
        case .unspecified: "Default"
        case .noRestriction: "None"
        case .lax: "Lax"
        case .strict: "Strict"
        }
    }
}

/// The identity of a stored cookie: a cookie replaces another with the same name, domain and path.
public struct CookieKey: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var domain: String
    public var path: String

    public init(name: String, domain: String, path: String) {
        self.name = name
        self.domain = domain
        self.path = path
    }

    public var description: String { "\(name)@\(domain)\(path)" }

    @inline(__always)
    func sameKey(name n: String, domain d: String, path p: String) -> Bool {
        utf8Equal(name, n) && utf8Equal(domain, d) && utf8Equal(path, p)
    }
}

/// One cookie as stored (RFC 6265bis §5.7).
public struct Cookie: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String
    /// The canonicalized host for a host-only cookie, else the Domain attribute (lower-case, no
    /// leading dot).
    public var domain: String
    public var path: String
    /// When the cookie expires; nil for a session cookie (the gateway keeps session cookies as
    /// long as the session itself lives).
    public var expiry: CookieTime?
    /// When the cookie was first created; kept when a cookie with the same key replaces it.
    public var creation: CookieTime
    /// When the cookie was last sent (or created).
    public var lastAccess: CookieTime
    public var hostOnly: Bool
    public var secure: Bool
    public var httpOnly: Bool
    public var sameSite: SameSite

    public init(
        name: String, value: String, domain: String, path: String = "/", expiry: CookieTime? = nil,
        creation: CookieTime, lastAccess: CookieTime? = nil, hostOnly: Bool = true, secure: Bool = false,
        httpOnly: Bool = false, sameSite: SameSite = .unspecified
    ) {
        self.name = name
        self.value = value
        self.domain = domain
        self.path = path
        self.expiry = expiry
        self.creation = creation
        self.lastAccess = lastAccess ?? creation
        self.hostOnly = hostOnly
        self.secure = secure
        self.httpOnly = httpOnly
        self.sameSite = sameSite
    }

    public var key: CookieKey { CookieKey(name: name, domain: domain, path: path) }

    /// Whether the cookie is persistent (has an expiry) rather than a session cookie.
    public var isPersistent: Bool { expiry != nil }

    /// Whether the cookie has expired at `now` (its expiry is at or before `now`).
    @inline(__always)
    public func isExpired(at now: CookieTime) -> Bool {
        if let e = expiry { return e <= now }
        return false
    }

    /// The cookie as it appears in a Cookie header: `name=value`, or just the value for a
    /// nameless cookie (RFC 6265bis §5.8.3).
    public var headerPair: String { name.isEmpty ? value : name + "=" + value }

    /// Whether this cookie would be sent to `url` (ignoring expiry): domain-match (or host
    /// equality for a host-only cookie), path-match, and Secure only in a secure context.
    public func applies(to url: CookieURL, secureContext: Bool) -> Bool {
        if secure && !secureContext { return false }
        if hostOnly {
            if !utf8Equal(domain, url.host) { return false }
        } else if !Match.domain(url.host, domain, hostIsIP: url.hostIsIPAddress) {
            return false
        }
        return Match.path(url.path, path)
    }

    /// A Set-Cookie-like rendering for diagnostics.
    public var description: String {
        var s = headerPair
        if !hostOnly { s += "; Domain=" + domain }
        s += "; Path=" + path
        if let e = expiry { s += "; Expires=" + (e == .earliest ? "(deleted)" : CookieDate.format(e)) }
        if secure { s += "; Secure" }
        if httpOnly { s += "; HttpOnly" }
        if sameSite != .unspecified { s += "; SameSite=" + sameSite.description }
        return s
    }
}
