import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Encryption at rest for any store: wraps a `SessionStore` and seals every cookie payload and
/// every WeChat session key on the way in, and opens them on the way out, with a
/// `SealingKeyring` (AES-256-GCM). The wrapped store only ever holds ciphertext; token hashes,
/// cookie names, domains, paths, expiry times and openids stay readable, since stores index them.
///
/// A stored value that does not open (plaintext from before a key was set, a key id no longer
/// configured, altered bytes) is left out as if it had expired: the cookie is not sent, the
/// session key reads as absent. A warning, at most one a minute, counts such values; it never
/// shows one.
public final class SealingSessionStore: SessionStore {
    public let base: any SessionStore
    public let keyring: SealingKeyring
    private let logger: Logger
    private let lastWarning = NIOLockedValueBox<NIODeadline?>(nil)

    public init(wrapping base: any SessionStore, keyring: SealingKeyring, logger: Logger = Logger(label: "tokenjar.store")) {
        self.base = base
        self.keyring = keyring
        self.logger = logger
    }

    public var isExclusive: Bool { base.isExclusive }

    // MARK: Sealing

    func seal(_ cookie: CookieRecord) -> CookieRecord {
        var sealed = cookie
        sealed.payload = keyring.seal(cookie.payload, context: SealingContext.cookie(
            name: cookie.name, domain: cookie.domain, path: cookie.path))
        return sealed
    }

    func seal(_ identity: SessionIdentity?) -> SessionIdentity? {
        guard var identity, let key = identity.sealedSessionKey else { return identity }
        identity.sealedSessionKey = keyring.seal(key, context: SealingContext.sessionKey(openID: identity.openID))
        return identity
    }

    func seal(_ record: SessionRecord) -> SessionRecord {
        var sealed = record
        sealed.cookies = record.cookies.map(seal)
        sealed.identity = seal(record.identity)
        return sealed
    }

    func seal(_ write: SessionWrite) -> SessionWrite {
        var sealed = write
        sealed.create = write.create.map(seal)
        sealed.changes = write.changes.map { change in
            if case .upsert(let cookie) = change { return .upsert(seal(cookie)) }
            return change
        }
        return sealed
    }

    /// The record with its values opened; what does not open is left out.
    func open(_ record: SessionRecord) -> SessionRecord {
        var opened = record
        var failures: [SealingFailure] = []
        opened.cookies = record.cookies.compactMap { cookie in
            do throws(SealingFailure) {
                var plain = cookie
                plain.payload = try keyring.open(cookie.payload, context: SealingContext.cookie(
                    name: cookie.name, domain: cookie.domain, path: cookie.path))
                return plain
            } catch {
                failures.append(error)
                return nil
            }
        }
        if let identity = record.identity, let key = identity.sealedSessionKey {
            do throws(SealingFailure) {
                opened.identity?.sealedSessionKey = try keyring.open(
                    key, context: SealingContext.sessionKey(openID: identity.openID))
            } catch {
                failures.append(error)
                opened.identity?.sealedSessionKey = nil
            }
        }
        if !failures.isEmpty { warn(failures) }
        return opened
    }

    private func warn(_ failures: [SealingFailure]) {
        let now = NIODeadline.now()
        let due = lastWarning.withLockedValue { last -> Bool in
            if let last, now - last < .seconds(60) { return false }
            last = now
            return true
        }
        guard due else { return }
        let reasons = Set(failures.map(\.description)).sorted().joined(separator: "; ")
        logger.warning("stored values that do not decrypt were left out", metadata: [
            "count": "\(failures.count)", "reasons": "\(reasons)",
        ])
    }

    // MARK: SessionStore

    public func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop)
        -> EventLoopFuture<SessionRecord?>
    {
        base.load(tokenHash, now: now, on: eventLoop).map { $0.map(self.open) }
    }

    public func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        base.write(seal(write), on: eventLoop)
    }

    public func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        base.delete(tokenHash, on: eventLoop)
    }

    public func sweep(now: Int64) async throws -> Int {
        try await base.sweep(now: now)
    }

    public func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        base.setIdentity(tokenHash, seal(identity), on: eventLoop)
    }

    public func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        base.rotate(from: old, to: seal(new), on: eventLoop)
    }

    public func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash] {
        try await base.evictIdleAnonymous(count: count, lastSeenBefore: lastSeenBefore)
    }

    public func sessions(openID: String) async throws -> [SessionRecord] {
        try await base.sessions(openID: openID).map(open)
    }

    public func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord] {
        try await base.sessions(hashPrefix: hashPrefix, limit: limit).map(open)
    }

    public func deleteSessions(openID: String) async throws -> Int {
        try await base.deleteSessions(openID: openID)
    }

    /// Shared values (a WeChat access token) are sealed too, bound to their key.
    public func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)? {
        guard let stored = try await base.sharedValue(key) else { return nil }
        do throws(SealingFailure) {
            return (try keyring.open(stored.value, context: SealingContext.sharedValue(key: key)), stored.expiresAt)
        } catch {
            warn([error])
            return nil
        }
    }

    public func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws {
        let sealed = keyring.seal(value, context: SealingContext.sharedValue(key: key))
        try await base.setSharedValue(key, sealed, expiresAt: expiresAt)
    }

    public func stats() async throws -> StoreStats { try await base.stats() }

    public func ping() async throws { try await base.ping() }

    public func shutdown() async throws { try await base.shutdown() }
}
