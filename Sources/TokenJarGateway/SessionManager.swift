import CookieEngine
import NIOCore
import TokenJarStore

/// Session lifetimes, in seconds.
public struct SessionTimeouts: Sendable, Hashable {
    public var idle: Int64
    public var absolute: Int64
    /// A session's last-seen time is written at most this often.
    public var touchInterval: Int64

    public init(idle: Int64 = 7 * 86_400, absolute: Int64 = 30 * 86_400, touchInterval: Int64 = 60) {
        self.idle = idle
        self.absolute = absolute
        self.touchInterval = touchInterval
    }
}

/// The session a request runs under.
struct ActiveSession: Sendable {
    let hash: TokenHash
    /// The token minted for this request, returned to the client in the token header.
    let mintedToken: String?
    /// The session is not stored yet: the response's write creates it.
    var isNew: Bool = false
    /// The state as seen when the request started; also the working copy when no cache is kept.
    var snapshot: SessionState

    var identity: SessionIdentity? { snapshot.identity }
}

/// Finds, mints and updates sessions: the jar logic between the data plane and the store.
final class SessionManager: Sendable {
    let store: any SessionStore
    let policy: CookiePolicy
    let timeouts: SessionTimeouts
    let clock: any GatewayClock
    let metrics: GatewayMetrics
    private let cache: SessionCache?

    init(store: any SessionStore, policy: CookiePolicy, timeouts: SessionTimeouts,
         clock: any GatewayClock, cacheEntries: Int, metrics: GatewayMetrics = .disabled) {
        self.store = store
        self.metrics = metrics
        self.policy = policy
        self.timeouts = timeouts
        self.clock = clock
        self.cache = store.isExclusive && cacheEntries > 0 ? SessionCache(capacity: cacheEntries) : nil
    }

    /// The cached session of a token, if the cache holds a live one.
    func cached(_ hash: TokenHash, now: Int64) -> ActiveSession? {
        guard let cache else { return nil }
        return cache.withSession(hash) { state -> ActiveSession? in
            guard let current = state else { return nil }
            guard current.expiresAt > now else {
                state = nil
                return nil
            }
            return ActiveSession(hash: hash, mintedToken: nil, snapshot: current)
        }
    }

    /// Loads a session from the store; nil when the token is unknown or expired.
    func load(_ hash: TokenHash, now: Int64, on loop: any EventLoop) -> EventLoopFuture<ActiveSession?> {
        store.load(hash, now: now, on: loop).map { record -> ActiveSession? in
            guard let record, record.expiresAt > now else { return nil }
            let state = self.state(from: record)
            if let cache = self.cache {
                let current = cache.withSession(hash) { cached -> SessionState in
                    if cached == nil { cached = state }
                    return cached!
                }
                return ActiveSession(hash: hash, mintedToken: nil, snapshot: current)
            }
            return ActiveSession(hash: hash, mintedToken: nil, snapshot: state)
        }
    }

    /// A new session under a freshly minted token. It is stored with the response's write.
    /// `adopting` (load benchmarks only) keys it by the client's own token instead, which is
    /// then not handed back.
    func mint(now: Int64, adopting clientToken: String? = nil) -> ActiveSession {
        let token = clientToken ?? SessionToken.mint()
        let hash = SessionToken.hash(token)
        let state = SessionState(
            createdAt: now, lastSeenAt: now, expiresAt: expiry(createdAt: now, lastSeen: now),
            identity: nil, jar: CookieJar(policy: policy))
        cache?.withSession(hash) { $0 = state }
        metrics.tokenMinted()
        return ActiveSession(hash: hash, mintedToken: clientToken == nil ? token : nil, isNew: true, snapshot: state)
    }

    /// The Cookie header the jar sends for `url`, or nil.
    func cookieHeader(_ session: inout ActiveSession, for url: CookieURL, nowMicros: Int64) -> String? {
        if let cache {
            var snapshot = session.snapshot
            let header = cache.withSession(session.hash) { state -> String? in
                guard state != nil else { return snapshot.jar.cookieHeader(for: url, now: CookieTime(microsecondsSinceEpoch: nowMicros)) }
                return state!.jar.cookieHeader(for: url, now: CookieTime(microsecondsSinceEpoch: nowMicros))
            }
            session.snapshot = snapshot
            return header
        }
        return session.snapshot.jar.cookieHeader(for: url, now: CookieTime(microsecondsSinceEpoch: nowMicros))
    }

    /// Applies a response's Set-Cookie fields to the session's jar and returns the write that
    /// makes the change durable, or nil when there is nothing to write.
    func applyResponse(_ session: inout ActiveSession, setCookie: [String], from url: CookieURL,
                       nowMicros: Int64) -> SessionWrite? {
        let now = nowMicros / 1_000_000
        let isNew = session.isNew
        var touched: (Int64, Int64)?
        func update(_ state: inout SessionState) -> JarChanges {
            let changes = setCookie.isEmpty
                ? JarChanges()
                : state.jar.receive(setCookie: setCookie, from: url, now: CookieTime(microsecondsSinceEpoch: nowMicros))
            if !isNew && now - state.lastSeenAt >= timeouts.touchInterval {
                state.lastSeenAt = now
                state.expiresAt = expiry(createdAt: state.createdAt, lastSeen: now)
                touched = (state.lastSeenAt, state.expiresAt)
            }
            return changes
        }
        let changes: JarChanges
        if let cache {
            var fallback = session.snapshot
            changes = cache.withSession(session.hash) { state -> JarChanges in
                guard state != nil else { return update(&fallback) }
                return update(&state!)
            }
        } else {
            changes = update(&session.snapshot)
        }
        var write = SessionWrite(tokenHash: session.hash)
        if isNew {
            let s = session.snapshot
            write.create = SessionRecord(
                tokenHash: session.hash, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt,
                expiresAt: s.expiresAt, identity: s.identity)
        }
        write.touch = touched.map { (lastSeenAt: $0.0, expiresAt: $0.1) }
        write.changes = Self.storeChanges(changes)
        return write.isEmpty ? nil : write
    }

    /// Makes a write durable. On failure the cached entry is dropped, so the next request reads
    /// the store's truth again.
    func commit(_ write: SessionWrite, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let future = store.write(write, on: loop)
        let cache = self.cache
        let metrics = self.metrics
        future.whenComplete { result in
            switch result {
            case .success:
                metrics.jarWritten()
            case .failure:
                metrics.storeFailed()
                cache?.remove(write.tokenHash)
            }
        }
        return future
    }

    /// Token rotation at login: a new token whose session carries `identity` and the cookies of
    /// the session being replaced (if any), which is retired.
    func logIn(replacing old: TokenHash?, identity: SessionIdentity, on loop: any EventLoop) -> EventLoopFuture<String> {
        let now = clock.nowSeconds()
        let token = SessionToken.mint()
        let hash = SessionToken.hash(token)
        let record = SessionRecord(
            tokenHash: hash, createdAt: now, lastSeenAt: now,
            expiresAt: expiry(createdAt: now, lastSeen: now), identity: identity)
        let done: EventLoopFuture<Void>
        if let old {
            done = store.rotate(from: old, to: record, on: loop)
        } else {
            done = store.write(SessionWrite(tokenHash: hash, create: record), on: loop)
        }
        return done.map { _ in
            if let old { self.cache?.remove(old) }
            self.metrics.tokenMinted()
            return token
        }
    }

    /// Forgets a session everywhere.
    func revoke(_ hash: TokenHash, on loop: any EventLoop) -> EventLoopFuture<Void> {
        cache?.remove(hash)
        return store.delete(hash, on: loop)
    }

    /// Drops a session from the cache only (after the store lost it, or a sweep).
    func forget(_ hash: TokenHash) { cache?.remove(hash) }

    var cachedSessions: Int { cache?.count ?? 0 }

    // MARK: conversions

    private func expiry(createdAt: Int64, lastSeen: Int64) -> Int64 {
        min(lastSeen + timeouts.idle, createdAt + timeouts.absolute)
    }

    private func state(from record: SessionRecord) -> SessionState {
        let cookies = record.cookies.compactMap { try? CookieCodec.decode($0.payload) }
        return SessionState(
            createdAt: record.createdAt, lastSeenAt: record.lastSeenAt, expiresAt: record.expiresAt,
            identity: record.identity, jar: CookieJar(cookies: cookies, policy: policy))
    }

    static func storeChanges(_ changes: JarChanges) -> [CookieChange] {
        var out = [CookieChange]()
        out.reserveCapacity(changes.upserted.count + changes.removed.count)
        for key in changes.removed {
            out.append(.delete(CookieRecordKey(name: key.name, domain: key.domain, path: key.path)))
        }
        for cookie in changes.upserted {
            out.append(.upsert(CookieRecord(
                name: cookie.name, domain: cookie.domain, path: cookie.path,
                expiresAt: cookie.expiry.map { CookieRecord.sweepTime(expiry: $0.unixSeconds) },
                payload: CookieCodec.encode(cookie))))
        }
        return out
    }
}
