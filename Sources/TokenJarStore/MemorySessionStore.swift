import NIOConcurrencyHelpers
import NIOCore

/// Sessions in a dictionary, gone when the process ends: for development and tests.
///
/// It has the semantics of the SQLite store (per-cookie changes, `sessionNotFound` on writes to
/// unknown sessions, monotonic touches, the same orderings) so either can stand in for the
/// other. Every operation is one short critical section; futures are already complete.
public final class MemorySessionStore: SessionStore {
    private struct Entry {
        var createdAt: Int64
        var lastSeenAt: Int64
        var expiresAt: Int64
        var identity: SessionIdentity?
        var cookies: [CookieRecordKey: CookieRecord]

        init(_ record: SessionRecord) {
            createdAt = record.createdAt
            lastSeenAt = record.lastSeenAt
            expiresAt = record.expiresAt
            identity = record.identity
            cookies = Dictionary(record.cookies.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        }

        func record(_ hash: TokenHash, cookies filter: (CookieRecord) -> Bool = { _ in true }) -> SessionRecord {
            let sorted = cookies.values.filter(filter).sorted { a, b in
                if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
                if a.domain != b.domain { return a.domain.utf8.lexicographicallyPrecedes(b.domain.utf8) }
                return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
            }
            return SessionRecord(
                tokenHash: hash, createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt,
                identity: identity, cookies: sorted)
        }
    }

    private struct State {
        var sessions: [TokenHash: Entry] = [:]
        var shared: [String: (value: [UInt8], expiresAt: Int64)] = [:]
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    public var isExclusive: Bool { true }

    public init() {}

    /// Runs `body` on the sessions under the lock; fails with `StoreError.closed` after shutdown.
    /// `body` must change nothing when it throws.
    private func withSessions<R>(_ body: (inout [TokenHash: Entry]) throws -> R) throws -> R {
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            return try body(&state.sessions)
        }
    }

    private func future<R: Sendable>(on eventLoop: any EventLoop, _ body: (inout [TokenHash: Entry]) throws -> R)
        -> EventLoopFuture<R>
    {
        do {
            return eventLoop.makeSucceededFuture(try withSessions(body))
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    private static func byHash(_ a: SessionRecord, _ b: SessionRecord) -> Bool {
        a.tokenHash.bytes.lexicographicallyPrecedes(b.tokenHash.bytes)
    }

    // MARK: Data plane

    public func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop) -> EventLoopFuture<SessionRecord?> {
        future(on: eventLoop) { sessions in
            guard let entry = sessions[tokenHash], entry.expiresAt >= now else { return nil }
            return entry.record(tokenHash) { ($0.expiresAt ?? .max) >= now }
        }
    }

    public func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        future(on: eventLoop) { sessions in
            guard !write.isEmpty else { return }
            if let create = write.create, create.tokenHash != write.tokenHash {
                throw StoreError.invalidArgument.with(detail: "create names another session than its write")
            }
            var entry: Entry
            if let existing = sessions[write.tokenHash] {
                entry = existing
            } else if let create = write.create {
                entry = Entry(create)
            } else {
                throw StoreError.sessionNotFound
            }
            if let touch = write.touch {
                entry.lastSeenAt = max(entry.lastSeenAt, touch.lastSeenAt)
                entry.expiresAt = max(entry.expiresAt, touch.expiresAt)
            }
            for change in write.changes {
                switch change {
                case .upsert(let cookie): entry.cookies[cookie.key] = cookie
                case .delete(let key): entry.cookies[key] = nil
                }
            }
            sessions[write.tokenHash] = entry
        }
    }

    public func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        future(on: eventLoop) { sessions in sessions[tokenHash] = nil }
    }

    public func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        future(on: eventLoop) { sessions in
            guard sessions[tokenHash] != nil else { throw StoreError.sessionNotFound }
            sessions[tokenHash]!.identity = identity
        }
    }

    public func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        future(on: eventLoop) { sessions in
            guard old != new.tokenHash else {
                throw StoreError.invalidArgument.with(detail: "rotation to the same token")
            }
            guard let oldEntry = sessions[old] else { throw StoreError.sessionNotFound }
            guard sessions[new.tokenHash] == nil else { throw StoreError.sessionExists }
            var entry = Entry(new)
            entry.cookies.merge(oldEntry.cookies) { kept, _ in kept }
            sessions[new.tokenHash] = entry
            sessions[old] = nil
        }
    }

    // MARK: Maintenance and admin

    public func sweep(now: Int64) async throws -> Int {
        // One pass that copies nothing, then changes only what expired: every request's write
        // waits for this lock, and rebuilding the whole dictionary held it for tens of
        // milliseconds at 100,000 sessions.
        try withSessions { sessions in
            var expired: [TokenHash] = []
            var withExpiredCookies: [TokenHash] = []
            for (hash, entry) in sessions {
                if entry.expiresAt < now {
                    expired.append(hash)
                } else if entry.cookies.values.contains(where: { ($0.expiresAt ?? .max) < now }) {
                    withExpiredCookies.append(hash)
                }
            }
            for hash in expired { sessions.removeValue(forKey: hash) }
            for hash in withExpiredCookies {
                guard let cookies = sessions[hash]?.cookies else { continue }
                sessions[hash]?.cookies = cookies.filter { ($0.value.expiresAt ?? .max) >= now }
            }
            return expired.count
        }
    }

    public func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash] {
        guard count > 0 else { return [] }
        return try withSessions { sessions in
            let victims = sessions
                .filter { $0.value.identity == nil && $0.value.lastSeenAt < lastSeenBefore }
                .sorted { a, b in
                    a.value.lastSeenAt != b.value.lastSeenAt
                        ? a.value.lastSeenAt < b.value.lastSeenAt
                        : a.key.bytes.lexicographicallyPrecedes(b.key.bytes)
                }
                .prefix(count)
                .map(\.key)
            for hash in victims { sessions[hash] = nil }
            return victims
        }
    }

    public func sessions(openID: String) async throws -> [SessionRecord] {
        try withSessions { sessions in
            sessions.filter { $0.value.identity?.openID == openID }.map { $0.value.record($0.key) }
                .sorted(by: Self.byHash)
        }
    }

    public func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord] {
        let prefix = try HashPrefix(hashPrefix)
        return try withSessions { sessions in
            guard limit > 0 else { return [] }
            let matching = sessions.filter { prefix.matches($0.key) }.map { $0.value.record($0.key) }
            return Array(matching.sorted(by: Self.byHash).prefix(limit))
        }
    }

    public func deleteSessions(openID: String) async throws -> Int {
        try withSessions { sessions in
            let before = sessions.count
            sessions = sessions.filter { $0.value.identity?.openID != openID }
            return before - sessions.count
        }
    }

    public func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)? {
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            return state.shared[key]
        }
    }

    public func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws {
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            state.shared[key] = (value, expiresAt)
        }
    }

    public func stats() async throws -> StoreStats {
        try withSessions { sessions in
            StoreStats(
                sessions: sessions.count,
                loggedIn: sessions.values.count { $0.identity != nil },
                cookies: sessions.values.reduce(0) { $0 + $1.cookies.count })
        }
    }

    public func ping() async throws {
        try withSessions { _ in () }
    }

    /// Drops every session; later calls fail with `StoreError.closed`, a second shutdown too.
    public func shutdown() async throws {
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            state.closed = true
            state.sessions = [:]
            state.shared = [:]
        }
    }
}
