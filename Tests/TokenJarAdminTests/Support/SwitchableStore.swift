import NIOConcurrencyHelpers
import NIOCore
import TokenJarStore

/// A memory store that can be switched "down": then its ping and counts fail, as a store whose
/// database went away. Everything else is the memory store's.
final class SwitchableStore: SessionStore {
    struct Down: Error {}

    let inner = MemorySessionStore()
    private let down = NIOLockedValueBox(false)

    var isDown: Bool {
        get { down.withLockedValue { $0 } }
        set { down.withLockedValue { $0 = newValue } }
    }

    var isExclusive: Bool { inner.isExclusive }

    func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop) -> EventLoopFuture<SessionRecord?> {
        inner.load(tokenHash, now: now, on: eventLoop)
    }

    func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> { inner.write(write, on: eventLoop) }

    func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        inner.delete(tokenHash, on: eventLoop)
    }

    func sweep(now: Int64) async throws -> Int { try await inner.sweep(now: now) }

    func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        inner.setIdentity(tokenHash, identity, on: eventLoop)
    }

    func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        inner.rotate(from: old, to: new, on: eventLoop)
    }

    func sessions(openID: String) async throws -> [SessionRecord] { try await inner.sessions(openID: openID) }

    func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord] {
        try await inner.sessions(hashPrefix: hashPrefix, limit: limit)
    }

    func deleteSessions(openID: String) async throws -> Int { try await inner.deleteSessions(openID: openID) }

    func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash] {
        try await inner.evictIdleAnonymous(count: count, lastSeenBefore: lastSeenBefore)
    }

    func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)? { try await inner.sharedValue(key) }

    func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws {
        try await inner.setSharedValue(key, value, expiresAt: expiresAt)
    }

    func stats() async throws -> StoreStats {
        if isDown { throw Down() }
        return try await inner.stats()
    }

    func ping() async throws {
        if isDown { throw Down() }
        try await inner.ping()
    }

    func shutdown() async throws { try await inner.shutdown() }
}
