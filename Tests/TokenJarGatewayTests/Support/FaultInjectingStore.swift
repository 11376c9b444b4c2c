import NIOConcurrencyHelpers
import NIOCore
import TokenJarStore

/// A store in front of another that can be made to fail (as a full disk or a broken database
/// would: every call fails with `StoreError.unavailable`) or to commit writes late.
final class FaultInjectingStore: SessionStore {
    let base: any SessionStore
    private let failing = NIOLockedValueBox(false)
    private let writeDelay: TimeAmount

    init(wrapping base: any SessionStore, writeDelay: TimeAmount = .zero) {
        self.base = base
        self.writeDelay = writeDelay
    }

    /// While set, every call fails.
    var isFailing: Bool {
        get { failing.withLockedValue { $0 } }
        set { failing.withLockedValue { $0 = newValue } }
    }

    var isExclusive: Bool { base.isExclusive }

    private func check() throws {
        if isFailing { throw StoreError.unavailable }
    }

    private func guarded<T>(_ loop: any EventLoop, _ body: () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        isFailing ? loop.makeFailedFuture(StoreError.unavailable) : body()
    }

    func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop) -> EventLoopFuture<SessionRecord?> {
        guarded(eventLoop) { base.load(tokenHash, now: now, on: eventLoop) }
    }

    func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guarded(eventLoop) {
            guard writeDelay > .zero else { return base.write(write, on: eventLoop) }
            let base = self.base
            return eventLoop.scheduleTask(in: writeDelay) {}.futureResult.flatMap { base.write(write, on: eventLoop) }
        }
    }

    func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guarded(eventLoop) { base.delete(tokenHash, on: eventLoop) }
    }

    func sweep(now: Int64) async throws -> Int {
        try check()
        return try await base.sweep(now: now)
    }

    func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guarded(eventLoop) { base.setIdentity(tokenHash, identity, on: eventLoop) }
    }

    func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guarded(eventLoop) { base.rotate(from: old, to: new, on: eventLoop) }
    }

    func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash] {
        try check()
        return try await base.evictIdleAnonymous(count: count, lastSeenBefore: lastSeenBefore)
    }

    func sessions(openID: String) async throws -> [SessionRecord] {
        try check()
        return try await base.sessions(openID: openID)
    }

    func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord] {
        try check()
        return try await base.sessions(hashPrefix: hashPrefix, limit: limit)
    }

    func deleteSessions(openID: String) async throws -> Int {
        try check()
        return try await base.deleteSessions(openID: openID)
    }

    func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)? {
        try check()
        return try await base.sharedValue(key)
    }

    func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws {
        try check()
        try await base.setSharedValue(key, value, expiresAt: expiresAt)
    }

    func stats() async throws -> StoreStats {
        try check()
        return try await base.stats()
    }

    func ping() async throws {
        try check()
        try await base.ping()
    }

    func shutdown() async throws { try await base.shutdown() }
}
