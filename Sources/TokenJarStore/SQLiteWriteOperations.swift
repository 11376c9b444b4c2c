/// The writer connection as write jobs see it. Every method runs inside the writer's open
/// transaction and changes nothing outside the database, so a job can run again after a
/// rollback (see `SQLiteWriter`). Confined to the writer thread.
final class SQLiteWriteContext {
    let db: SQLiteConnection

    /// Every statement of the writer, prepared once when the context is made.
    enum Statement: Int, CaseIterable {
        case begin, commit, savepoint, release, rollbackToSavepoint
        case exists, insertSession, touch, updatePayload, upsertCookie, deleteCookie, setIdentity, copyCookies
        case setSharedValue, deleteSession, deleteByOpenID, sweepSessions, idleAnonymous, sweepCookies

        var sql: String {
            switch self {
            case .begin: "BEGIN IMMEDIATE"
            case .commit: "COMMIT"
            case .savepoint: "SAVEPOINT job"
            case .release: "RELEASE job"
            case .rollbackToSavepoint: "ROLLBACK TO job"
            case .exists: "SELECT 1 FROM sessions WHERE token_hash = ?"
            case .insertSession:
                """
                INSERT INTO sessions (token_hash, created_at, last_seen_at, expires_at, openid, unionid, session_key)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING
                """
            case .touch:
                """
                UPDATE sessions SET last_seen_at = max(last_seen_at, ?2), expires_at = max(expires_at, ?3)
                WHERE token_hash = ?1
                """
            case .updatePayload:
                """
                UPDATE cookies SET payload = ?6
                WHERE token_hash = ?1 AND name = ?2 AND domain = ?3 AND path = ?4 AND expires_at IS ?5
                """
            case .upsertCookie:
                """
                INSERT INTO cookies (token_hash, name, domain, path, expires_at, payload) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (token_hash, name, domain, path)
                DO UPDATE SET expires_at = excluded.expires_at, payload = excluded.payload
                """
            case .deleteCookie: "DELETE FROM cookies WHERE token_hash = ? AND name = ? AND domain = ? AND path = ?"
            case .setIdentity: "UPDATE sessions SET openid = ?2, unionid = ?3, session_key = ?4 WHERE token_hash = ?1"
            case .copyCookies:
                """
                INSERT INTO cookies (token_hash, name, domain, path, expires_at, payload)
                SELECT ?1, name, domain, path, expires_at, payload FROM cookies WHERE token_hash = ?2
                ON CONFLICT (token_hash, name, domain, path) DO NOTHING
                """
            case .setSharedValue:
                """
                INSERT INTO shared_values (key, value, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                """
            case .deleteSession: "DELETE FROM sessions WHERE token_hash = ?"
            case .deleteByOpenID: "DELETE FROM sessions WHERE openid = ?"
            case .sweepSessions:
                """
                DELETE FROM sessions WHERE token_hash IN
                    (SELECT token_hash FROM sessions WHERE expires_at < ?1 LIMIT ?2)
                """
            case .idleAnonymous:
                """
                SELECT token_hash FROM sessions WHERE openid IS NULL AND last_seen_at < ?1
                ORDER BY last_seen_at, token_hash LIMIT ?2
                """
            case .sweepCookies:
                """
                DELETE FROM cookies WHERE (token_hash, name, domain, path) IN
                    (SELECT token_hash, name, domain, path FROM cookies WHERE expires_at < ?1 LIMIT ?2)
                """
            }
        }
    }

    /// The prepared statements, indexed by `Statement.rawValue`.
    private let statements: [SQLiteStatement]

    /// Prepares every statement of the writer on `db` (migrated).
    init(db: SQLiteConnection) throws {
        self.db = db
        statements = try Statement.allCases.map { try db.prepare($0.sql) }
    }

    private func statement(_ which: Statement) -> SQLiteStatement { statements[which.rawValue] }

    // MARK: Transactions

    func begin() throws { try statement(.begin).run() }
    func commit() throws { try statement(.commit).run() }

    func rollback() {
        guard !db.isAutocommit else { return }
        try? db.exec("ROLLBACK")
    }

    /// Runs `body` in a savepoint: its changes are kept when it returns and undone when it
    /// throws. The outer error is for failures that spoil the whole transaction.
    func inSavepoint<R>(_ body: () throws -> R) throws -> Result<R, Error> {
        try statement(.savepoint).run()
        do {
            let value = try body()
            try statement(.release).run()
            return .success(value)
        } catch {
            try statement(.rollbackToSavepoint).run()
            try statement(.release).run()
            return .failure(error)
        }
    }

    // MARK: Operations

    private func exists(_ key: SQLiteValue) throws -> Bool {
        try statement(.exists).queryFirst(key) { _ in true } ?? false
    }

    /// Inserts a session row with its cookies; false when the session existed already.
    private func insert(_ record: SessionRecord) throws -> Bool {
        let key = SQLiteValue.blob(record.tokenHash.bytes)
        let inserted = try statement(.insertSession).run(
            key, .int(record.createdAt), .int(record.lastSeenAt), .int(record.expiresAt),
            .text(record.identity?.openID), .text(record.identity?.unionID), .blob(record.identity?.sealedSessionKey))
        guard inserted == 1 else { return false }
        for cookie in record.cookies { try upsert(cookie, key, isNew: true) }
        return true
    }

    /// Stores a cookie. A cookie replaced with the same expiry (a rotated session id, say)
    /// changes its payload alone: that UPDATE leaves the `cookies_expires_at` index as it is,
    /// where the upsert's DO UPDATE would rewrite the index entry, a second page in the commit.
    private func upsert(_ cookie: CookieRecord, _ key: SQLiteValue, isNew: Bool = false) throws {
        let args: [SQLiteValue] = [
            key, .text(cookie.name), .text(cookie.domain), .text(cookie.path), .int(cookie.expiresAt),
            .blob(cookie.payload),
        ]
        if !isNew, try statement(.updatePayload).run(args) == 1 { return }
        try statement(.upsertCookie).run(args)
    }

    /// Applies a write. Whether the session exists is learnt without a query of its own where
    /// the write tells anyway: the touch UPDATE changes no row, or the first cookie upsert
    /// fails its foreign key (mapped to `StoreError.sessionNotFound`). Cookie deletes before that
    /// upsert change nothing on a missing session, since no cookie outlives its session. Only a
    /// write of deletes alone asks.
    func apply(_ write: SessionWrite) throws {
        let key = SQLiteValue.blob(write.tokenHash.bytes)
        var fresh = false
        if let create = write.create {
            guard create.tokenHash == write.tokenHash else {
                throw StoreError.invalidArgument.with(detail: "create names another session than its write")
            }
            // A session inserted just now without cookies has none to replace.
            fresh = try insert(create) && create.cookies.isEmpty
            if let touch = write.touch {
                try statement(.touch).run(key, .int(touch.lastSeenAt), .int(touch.expiresAt))
            }
        } else if let touch = write.touch {
            let updated = try statement(.touch).run(key, .int(touch.lastSeenAt), .int(touch.expiresAt))
            guard updated == 1 else { throw StoreError.sessionNotFound }
        } else if !write.changes.contains(where: \.isUpsert), try !exists(key) {
            throw StoreError.sessionNotFound
        }
        for change in write.changes {
            switch change {
            case .upsert(let cookie):
                try upsert(cookie, key, isNew: fresh)
            case .delete(let k):
                try statement(.deleteCookie).run(key, .text(k.name), .text(k.domain), .text(k.path))
            }
        }
    }

    func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?) throws {
        let updated = try statement(.setIdentity).run(
            .blob(tokenHash.bytes), .text(identity?.openID), .text(identity?.unionID),
            .blob(identity?.sealedSessionKey))
        guard updated == 1 else { throw StoreError.sessionNotFound }
    }

    func rotate(from old: TokenHash, to new: SessionRecord) throws {
        guard old != new.tokenHash else {
            throw StoreError.invalidArgument.with(detail: "rotation to the same token")
        }
        let oldKey = SQLiteValue.blob(old.bytes)
        guard try exists(oldKey) else { throw StoreError.sessionNotFound }
        guard try insert(new) else { throw StoreError.sessionExists }
        // `new.cookies` are in already; the copy adds only the old cookies they do not replace.
        try statement(.copyCookies).run(.blob(new.tokenHash.bytes), oldKey)
        try statement(.deleteSession).run(oldKey)
    }

    func delete(_ tokenHash: TokenHash) throws {
        try statement(.deleteSession).run(.blob(tokenHash.bytes))
    }

    func deleteSessions(openID: String) throws -> Int {
        try statement(.deleteByOpenID).run(.text(openID))
    }

    func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) throws {
        try statement(.setSharedValue).run(.text(key), .blob(value), .int(expiresAt))
    }

    /// Deletes up to `limit` anonymous sessions last seen before `lastSeenBefore`, least
    /// recently seen first (their cookies go with them); returns their hashes.
    func evictIdleAnonymous(limit: Int, lastSeenBefore: Int64) throws -> [TokenHash] {
        let hashes = try statement(.idleAnonymous).query(.int(lastSeenBefore), .int(Int64(limit))) { row in
            TokenHash(bytes: row.blob(0))
        }.compactMap { $0 }
        let delete = statement(.deleteSession)
        for hash in hashes { _ = try delete.run(.blob(hash.bytes)) }
        return hashes
    }

    /// Deletes up to `limit` expired sessions (their cookies go with them); returns how many.
    func sweepSessions(now: Int64, limit: Int) throws -> Int {
        try statement(.sweepSessions).run(.int(now), .int(Int64(limit)))
    }

    /// Deletes up to `limit` expired cookies; returns how many.
    func sweepCookies(now: Int64, limit: Int) throws -> Int {
        try statement(.sweepCookies).run(.int(now), .int(Int64(limit)))
    }
}

extension CookieChange {
    fileprivate var isUpsert: Bool {
        if case .upsert = self { return true }
        return false
    }
}
