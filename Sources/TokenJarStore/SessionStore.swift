import NIOCore

/// The SHA-256 of a client token. Stores keep only this, never the token itself.
public struct TokenHash: Hashable, Sendable {
    /// The 32 bytes of the digest.
    public let bytes: [UInt8]

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.bytes = Array(bytes)
    }

    /// The digest's bytes in one call (the derived form hashes them one by one).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Compared eight bytes at a time.
    public static func == (a: TokenHash, b: TokenHash) -> Bool {
        a.bytes.withUnsafeBytes { x in
            b.bytes.withUnsafeBytes { y in
                guard x.count == y.count else { return false }
                var offset = 0
                while offset + 8 <= x.count {
                    if x.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                        != y.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                    offset += 8
                }
                while offset < x.count {
                    if x[offset] != y[offset] { return false }
                    offset += 1
                }
                return true
            }
        }
    }

    /// Lower-case hex of the whole digest.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A short prefix of the hex digest, safe for logs and admin listings.
    public var shortHex: String { String(hex.prefix(12)) }
}

/// One stored cookie. The payload is the cookie engine's serialized form (opaque to the store),
/// so a store never needs to understand cookie attributes to keep them.
public struct CookieRecord: Hashable, Sendable {
    public var name: String
    public var domain: String
    public var path: String
    /// Unix seconds from which a sweep may delete the row: at or after the cookie's expiry;
    /// nil for a session cookie. The exact expiry travels in the payload. The gateway stores
    /// `sweepTime(expiry:)`, so a cookie whose expiry moves by seconds only (the 400-day cap
    /// of RFC 6265bis moves with every response) keeps its index entry and the store rewrites
    /// the payload alone.
    public var expiresAt: Int64?
    public var payload: [UInt8]

    public init(name: String, domain: String, path: String, expiresAt: Int64?, payload: [UInt8]) {
        self.name = name
        self.domain = domain
        self.path = path
        self.expiresAt = expiresAt
        self.payload = payload
    }

    public var key: CookieRecordKey { CookieRecordKey(name: name, domain: domain, path: path) }

    /// The whole hour at or after `expiry` (Unix seconds): when a sweep may delete a cookie.
    public static func sweepTime(expiry: Int64) -> Int64 {
        let hour: Int64 = 3600
        guard expiry < Int64.max - hour else { return Int64.max }
        let rounded = expiry - expiry % hour  // toward zero
        return rounded >= expiry ? rounded : rounded + hour
    }
}

/// The identity of a stored cookie: RFC 6265bis replaces a cookie by (name, domain, path).
public struct CookieRecordKey: Hashable, Sendable {
    public var name: String
    public var domain: String
    public var path: String

    public init(name: String, domain: String, path: String) {
        self.name = name
        self.domain = domain
        self.path = path
    }
}

/// One change to a session's cookies. Stores apply these one cookie at a time, never by
/// overwriting the whole jar, so concurrent requests of one token keep each other's cookies.
public enum CookieChange: Hashable, Sendable {
    case upsert(CookieRecord)
    case delete(CookieRecordKey)
}

/// Who a session belongs to, once it has logged in.
public struct SessionIdentity: Hashable, Sendable {
    public var openID: String
    public var unionID: String?
    /// The sealed (encrypted) WeChat session key; never the plain key.
    public var sealedSessionKey: [UInt8]?

    public init(openID: String, unionID: String? = nil, sealedSessionKey: [UInt8]? = nil) {
        self.openID = openID
        self.unionID = unionID
        self.sealedSessionKey = sealedSessionKey
    }
}

/// A session as stored: its times, its identity and its cookies.
public struct SessionRecord: Hashable, Sendable {
    public var tokenHash: TokenHash
    /// Unix seconds.
    public var createdAt: Int64
    /// Unix seconds of the last request that touched the session.
    public var lastSeenAt: Int64
    /// Unix seconds after which the session is expired: the earlier of the idle deadline and
    /// the absolute lifetime.
    public var expiresAt: Int64
    public var identity: SessionIdentity?
    public var cookies: [CookieRecord]

    public init(
        tokenHash: TokenHash, createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64,
        identity: SessionIdentity? = nil, cookies: [CookieRecord] = []
    ) {
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.identity = identity
        self.cookies = cookies
    }
}

/// One durable write for one session. Everything in it commits together.
public struct SessionWrite: Hashable, Sendable {
    public var tokenHash: TokenHash
    /// Creates the session (with its cookies) when it does not exist yet.
    public var create: SessionRecord?
    /// New (lastSeenAt, expiresAt) for the session, when it should be touched.
    public var touch: (lastSeenAt: Int64, expiresAt: Int64)?
    /// Per-cookie changes, applied in order.
    public var changes: [CookieChange]

    public init(
        tokenHash: TokenHash, create: SessionRecord? = nil,
        touch: (lastSeenAt: Int64, expiresAt: Int64)? = nil, changes: [CookieChange] = []
    ) {
        self.tokenHash = tokenHash
        self.create = create
        self.touch = touch
        self.changes = changes
    }

    public var isEmpty: Bool { create == nil && touch == nil && changes.isEmpty }

    public static func == (a: SessionWrite, b: SessionWrite) -> Bool {
        a.tokenHash == b.tokenHash && a.create == b.create && a.changes == b.changes
            && a.touch?.lastSeenAt == b.touch?.lastSeenAt && a.touch?.expiresAt == b.touch?.expiresAt
    }

    public func hash(into h: inout Hasher) {
        h.combine(tokenHash)
        h.combine(changes)
    }
}

/// Counts for operations and the admin API.
public struct StoreStats: Hashable, Sendable {
    public var sessions: Int
    public var loggedIn: Int
    public var cookies: Int

    public init(sessions: Int, loggedIn: Int, cookies: Int) {
        self.sessions = sessions
        self.loggedIn = loggedIn
        self.cookies = cookies
    }
}

/// Where sessions and their cookie jars live.
///
/// The data plane calls `load` and `write` from SwiftNIO event loops: both return futures on the
/// given loop and must never block it. A future from `write` succeeds only once the write is
/// durable (committed), so the gateway can hold a response head until then.
public protocol SessionStore: Sendable {
    /// True when this process is the only writer of the store, so the gateway may keep a
    /// write-through cache of jars. False for stores shared between instances.
    var isExclusive: Bool { get }

    /// The session of a token, or nil when it is unknown or expired at `now` (unix seconds).
    func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop) -> EventLoopFuture<SessionRecord?>

    /// Applies one write durably. Several writes handed in together may share one commit.
    ///
    /// When the session exists, `create` is ignored; otherwise `create` inserts it (with its
    /// cookies) and without `create` the write fails with `StoreError.sessionNotFound`, changing
    /// nothing. `touch` never moves a session's times backwards. `changes` apply one cookie at a
    /// time, in order. An empty write succeeds at once.
    func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// Removes a session and its cookies; succeeds when there is no such session.
    func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// Removes sessions expired at `now`; returns how many were removed.
    func sweep(now: Int64) async throws -> Int

    /// Sets (or, with nil, clears) the identity of a session. Fails with
    /// `StoreError.sessionNotFound` when the session does not exist. Durable like `write`.
    func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>

    /// Token rotation: atomically creates `new` (its times, identity and cookies), copies into it
    /// every cookie of `old` that `new.cookies` does not replace, and deletes `old`. Fails with
    /// `StoreError.sessionNotFound` when `old` does not exist and `StoreError.sessionExists` when
    /// `new.tokenHash` does; nothing changes then. Durable like `write`.
    func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// Makes room under the session cap: removes up to `count` anonymous sessions (no identity)
    /// last seen before `lastSeenBefore` (unix seconds), least recently seen first, with their
    /// cookies, and returns their hashes so a cache can drop them. Logged-in sessions are never
    /// removed here.
    func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash]

    /// Every stored session (with its cookies) whose identity has this openid, expired or not.
    func sessions(openID: String) async throws -> [SessionRecord]

    /// Up to `limit` stored sessions (with their cookies) whose hash in lower-case hex starts with
    /// `hashPrefix`, in hash order. An empty prefix lists from the first; a prefix that is not hex
    /// fails with `StoreError.invalidArgument`.
    func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord]

    /// Removes every session of this openid (logout everywhere); returns how many were removed.
    func deleteSessions(openID: String) async throws -> Int

    /// A small value every gateway instance on this store shares (a cached WeChat `access_token`):
    /// the value last set under `key`, with its expiry in unix seconds — also once that time has
    /// passed, since the caller decides with its own clock (and may refresh ahead of expiry).
    /// nil when the key was never set.
    func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)?

    /// Sets or replaces the shared value under `key`; the last writer wins. Durable like `write`.
    /// Values are few and small (a few KiB at most) and are never swept.
    func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws

    /// Counts of sessions and cookies.
    func stats() async throws -> StoreStats

    /// Whether the store answers at all (readiness probes).
    func ping() async throws

    /// Commits whatever is pending and releases resources. No call may follow.
    func shutdown() async throws
}
