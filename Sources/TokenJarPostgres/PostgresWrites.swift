import Logging
import NIOCore
import PostgresNIO
import TokenJarStore

/// The store's writes. `write` and `rotate` run inside one transaction each (the caller opens
/// it); the others are single statements. Cookies are written one row at a time, never as a
/// whole jar, so two instances writing different cookies of one token keep both.
enum PostgresWrites {
    /// Applies one `SessionWrite` inside the caller's transaction.
    static func apply(_ write: SessionWrite, _ db: PostgresConnection, _ logger: Logger) async throws {
        let key = ByteBuffer(bytes: write.tokenHash.bytes)
        var touched = false
        if let create = write.create {
            guard create.tokenHash == write.tokenHash else {
                throw StoreError.invalidArgument.with(detail: "create names another session than its write")
            }
            _ = try await insert(create, db, logger)
        } else if let touch = write.touch {
            // The touch doubles as the existence check, and locks the row until commit.
            guard try await self.touch(key, touch, db, logger) else { throw StoreError.sessionNotFound }
            touched = true
        } else {
            // Keeps a concurrent delete (revocation, sweep) out until this write commits.
            let found = try await db.count(
                "SELECT 1 FROM tokenjar_sessions WHERE token_hash = \(key) FOR KEY SHARE", logger: logger)
            guard found > 0 else { throw StoreError.sessionNotFound }
        }
        if let touch = write.touch, !touched {
            _ = try await self.touch(key, touch, db, logger)
        }
        for change in lockOrder(write.changes) {
            switch change {
            case .upsert(let cookie):
                try await upsert(cookie, key, db, logger)
            case .delete(let cookie):
                try await db.query("""
                    DELETE FROM tokenjar_cookies WHERE token_hash = \(key)
                    AND name = \(cookie.name) AND domain = \(cookie.domain) AND path = \(cookie.path)
                    """, logger: logger)
            }
        }
    }

    /// Token rotation inside the caller's transaction.
    static func rotate(from old: TokenHash, to new: SessionRecord, _ db: PostgresConnection, _ logger: Logger)
        async throws
    {
        guard old != new.tokenHash else {
            throw StoreError.invalidArgument.with(detail: "rotation to the same token")
        }
        let oldKey = ByteBuffer(bytes: old.bytes)
        let found = try await db.count(
            "SELECT 1 FROM tokenjar_sessions WHERE token_hash = \(oldKey) FOR UPDATE", logger: logger)
        guard found > 0 else { throw StoreError.sessionNotFound }
        guard try await insert(new, db, logger) else { throw StoreError.sessionExists }
        // `new.cookies` are in already; the copy adds only the old cookies they do not replace.
        try await db.query("""
            INSERT INTO tokenjar_cookies (token_hash, name, domain, path, expires_at, payload)
            SELECT \(ByteBuffer(bytes: new.tokenHash.bytes)), name, domain, path, expires_at, payload
            FROM tokenjar_cookies WHERE token_hash = \(oldKey)
            ON CONFLICT (token_hash, name, domain, path) DO NOTHING
            """, logger: logger)
        try await db.query("DELETE FROM tokenjar_sessions WHERE token_hash = \(oldKey)", logger: logger)
    }

    static func setIdentity(_ hash: TokenHash, _ identity: SessionIdentity?, _ db: PostgresConnection,
                            _ logger: Logger) async throws {
        let updated = try await db.count("""
            UPDATE tokenjar_sessions
            SET openid = \(identity?.openID), unionid = \(identity?.unionID),
                session_key = \(identity?.sealedSessionKey.map { ByteBuffer(bytes: $0) })
            WHERE token_hash = \(ByteBuffer(bytes: hash.bytes)) RETURNING 1
            """, logger: logger)
        guard updated == 1 else { throw StoreError.sessionNotFound }
    }

    static func delete(_ hash: TokenHash, _ db: PostgresConnection, _ logger: Logger) async throws {
        try await db.query(
            "DELETE FROM tokenjar_sessions WHERE token_hash = \(ByteBuffer(bytes: hash.bytes))", logger: logger)
    }

    static func deleteSessions(openID: String, _ db: PostgresConnection, _ logger: Logger) async throws -> Int {
        try await db.count("DELETE FROM tokenjar_sessions WHERE openid = \(openID) RETURNING 1", logger: logger)
    }

    /// Up to `count` anonymous sessions last seen before `lastSeenBefore`, least recently seen
    /// first, deleted in one statement; rows a concurrent write holds are skipped, not waited for.
    static func evictIdleAnonymous(count: Int, lastSeenBefore: Int64, _ db: PostgresConnection, _ logger: Logger)
        async throws -> [TokenHash]
    {
        let rows = try await db.query("""
            DELETE FROM tokenjar_sessions WHERE token_hash IN (
                SELECT token_hash FROM tokenjar_sessions
                WHERE openid IS NULL AND last_seen_at < \(lastSeenBefore)
                ORDER BY last_seen_at, token_hash LIMIT \(Int64(count)) FOR UPDATE SKIP LOCKED)
            RETURNING token_hash, last_seen_at
            """, logger: logger)
        var evicted: [(hash: TokenHash, lastSeenAt: Int64)] = []
        for try await (hash, lastSeenAt) in rows.decode((ByteBuffer, Int64).self) {
            if let hash = TokenHash(bytes: hash.readableBytesView) { evicted.append((hash, lastSeenAt)) }
        }
        // RETURNING keeps no order: least recently seen first, ties by hash, as the other stores.
        return evicted.sorted { a, b in
            a.lastSeenAt != b.lastSeenAt ? a.lastSeenAt < b.lastSeenAt : a.hash.bytes.lexicographicallyPrecedes(b.hash.bytes)
        }.map(\.hash)
    }

    /// The changes sorted by cookie key, stably (changes of one cookie keep their order), so that
    /// two transactions of one token lock cookie rows in the same order and cannot deadlock.
    /// Changes of different cookies commute, so the outcome is that of the original order.
    static func lockOrder(_ changes: [CookieChange]) -> [CookieChange] {
        guard changes.count > 1 else { return changes }
        func key(_ change: CookieChange) -> CookieRecordKey {
            switch change {
            case .upsert(let cookie): cookie.key
            case .delete(let key): key
            }
        }
        func less(_ a: CookieRecordKey, _ b: CookieRecordKey) -> Bool {
            let (x, y) = (a.name.utf8, b.name.utf8)
            if !x.elementsEqual(y) { return x.lexicographicallyPrecedes(y) }
            if !a.domain.utf8.elementsEqual(b.domain.utf8) { return a.domain.utf8.lexicographicallyPrecedes(b.domain.utf8) }
            return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
        }
        return changes.enumerated().sorted { lhs, rhs in
            let (a, b) = (key(lhs.element), key(rhs.element))
            if a == b { return lhs.offset < rhs.offset }
            return less(a, b)
        }.map(\.element)
    }

    /// Sets a shared value; the last writer wins.
    static func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64, _ db: PostgresConnection,
                               _ logger: Logger) async throws {
        try await db.query("""
            INSERT INTO tokenjar_shared_values (key, value, expires_at)
            VALUES (\(key), \(ByteBuffer(bytes: value)), \(expiresAt))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """, logger: logger)
    }

    // MARK: Rows

    /// Inserts a session with its cookies; false when it existed already (nothing changes then).
    private static func insert(_ record: SessionRecord, _ db: PostgresConnection, _ logger: Logger) async throws
        -> Bool
    {
        let key = ByteBuffer(bytes: record.tokenHash.bytes)
        let inserted = try await db.count("""
            INSERT INTO tokenjar_sessions
                (token_hash, created_at, last_seen_at, expires_at, openid, unionid, session_key)
            VALUES (\(key), \(record.createdAt), \(record.lastSeenAt), \(record.expiresAt),
                    \(record.identity?.openID), \(record.identity?.unionID),
                    \(record.identity?.sealedSessionKey.map { ByteBuffer(bytes: $0) }))
            ON CONFLICT (token_hash) DO NOTHING RETURNING 1
            """, logger: logger)
        guard inserted == 1 else { return false }
        for cookie in record.cookies { try await upsert(cookie, key, db, logger) }
        return true
    }

    /// Moves the session's times forward, never back; false when there is no such session.
    private static func touch(_ key: ByteBuffer, _ touch: (lastSeenAt: Int64, expiresAt: Int64),
                              _ db: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await db.count("""
            UPDATE tokenjar_sessions
            SET last_seen_at = GREATEST(last_seen_at, \(touch.lastSeenAt)),
                expires_at = GREATEST(expires_at, \(touch.expiresAt))
            WHERE token_hash = \(key) RETURNING 1
            """, logger: logger) == 1
    }

    private static func upsert(_ cookie: CookieRecord, _ key: ByteBuffer, _ db: PostgresConnection,
                               _ logger: Logger) async throws {
        try await db.query("""
            INSERT INTO tokenjar_cookies (token_hash, name, domain, path, expires_at, payload)
            VALUES (\(key), \(cookie.name), \(cookie.domain), \(cookie.path), \(cookie.expiresAt),
                    \(ByteBuffer(bytes: cookie.payload)))
            ON CONFLICT (token_hash, name, domain, path)
            DO UPDATE SET expires_at = excluded.expires_at, payload = excluded.payload
            """, logger: logger)
    }
}
