/// The writer connection as write jobs see it. Every method runs inside the writer's open
/// transaction and changes nothing outside the database, so a job can run again after a
/// rollback (see `SQLiteWriter`). Confined to the writer thread.
final class SQLiteWriteContext {
    let db: SQLiteConnection

    init(db: SQLiteConnection) { self.db = db }

    private enum SQL {
        static let exists = "SELECT 1 FROM sessions WHERE token_hash = ?"
        static let insertSession = """
            INSERT INTO sessions (token_hash, created_at, last_seen_at, expires_at, openid, unionid, session_key)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING
            """
        static let touch = """
            UPDATE sessions SET last_seen_at = max(last_seen_at, ?2), expires_at = max(expires_at, ?3)
            WHERE token_hash = ?1
            """
        static let upsertCookie = """
            INSERT INTO cookies (token_hash, name, domain, path, expires_at, payload) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (token_hash, name, domain, path)
            DO UPDATE SET expires_at = excluded.expires_at, payload = excluded.payload
            """
        static let deleteCookie = "DELETE FROM cookies WHERE token_hash = ? AND name = ? AND domain = ? AND path = ?"
        static let setIdentity = "UPDATE sessions SET openid = ?2, unionid = ?3, session_key = ?4 WHERE token_hash = ?1"
        static let copyCookies = """
            INSERT INTO cookies (token_hash, name, domain, path, expires_at, payload)
            SELECT ?1, name, domain, path, expires_at, payload FROM cookies WHERE token_hash = ?2
            ON CONFLICT (token_hash, name, domain, path) DO NOTHING
            """
        static let setSharedValue = """
            INSERT INTO shared_values (key, value, expires_at) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """
        static let deleteSession = "DELETE FROM sessions WHERE token_hash = ?"
        static let deleteByOpenID = "DELETE FROM sessions WHERE openid = ?"
        static let sweepSessions = """
            DELETE FROM sessions WHERE token_hash IN
                (SELECT token_hash FROM sessions WHERE expires_at < ?1 LIMIT ?2)
            """
        static let idleAnonymous = """
            SELECT token_hash FROM sessions WHERE openid IS NULL AND last_seen_at < ?1
            ORDER BY last_seen_at, token_hash LIMIT ?2
            """
        static let sweepCookies = """
            DELETE FROM cookies WHERE (token_hash, name, domain, path) IN
                (SELECT token_hash, name, domain, path FROM cookies WHERE expires_at < ?1 LIMIT ?2)
            """
    }

    // MARK: Transactions

    func begin() throws { try db.statement("BEGIN IMMEDIATE").run() }
    func commit() throws { try db.statement("COMMIT").run() }

    func rollback() {
        guard !db.isAutocommit else { return }
        try? db.exec("ROLLBACK")
    }

    /// Runs `body` in a savepoint: its changes are kept when it returns and undone when it
    /// throws. The outer error is for failures that spoil the whole transaction.
    func inSavepoint<R>(_ body: () throws -> R) throws -> Result<R, Error> {
        try db.statement("SAVEPOINT job").run()
        do {
            let value = try body()
            try db.statement("RELEASE job").run()
            return .success(value)
        } catch {
            try db.statement("ROLLBACK TO job").run()
            try db.statement("RELEASE job").run()
            return .failure(error)
        }
    }

    // MARK: Operations

    private func exists(_ key: SQLiteValue) throws -> Bool {
        try db.statement(SQL.exists).queryFirst(key) { _ in true } ?? false
    }

    /// Inserts a session row with its cookies; false when the session existed already.
    private func insert(_ record: SessionRecord) throws -> Bool {
        let key = SQLiteValue.blob(record.tokenHash.bytes)
        let inserted = try db.statement(SQL.insertSession).run(
            key, .int(record.createdAt), .int(record.lastSeenAt), .int(record.expiresAt),
            .text(record.identity?.openID), .text(record.identity?.unionID), .blob(record.identity?.sealedSessionKey))
        guard inserted == 1 else { return false }
        for cookie in record.cookies { try upsert(cookie, key) }
        return true
    }

    private func upsert(_ cookie: CookieRecord, _ key: SQLiteValue) throws {
        try db.statement(SQL.upsertCookie).run(
            key, .text(cookie.name), .text(cookie.domain), .text(cookie.path), .int(cookie.expiresAt),
            .blob(cookie.payload))
    }

    func apply(_ write: SessionWrite) throws {
        let key = SQLiteValue.blob(write.tokenHash.bytes)
        var touched = false
        if let create = write.create {
            guard create.tokenHash == write.tokenHash else {
                throw StoreError.invalidArgument.with(detail: "create names another session than its write")
            }
            _ = try insert(create)
        } else if let touch = write.touch {
            let updated = try db.statement(SQL.touch).run(key, .int(touch.lastSeenAt), .int(touch.expiresAt))
            guard updated == 1 else { throw StoreError.sessionNotFound }
            touched = true
        } else if try !exists(key) {
            throw StoreError.sessionNotFound
        }
        if let touch = write.touch, !touched {
            try db.statement(SQL.touch).run(key, .int(touch.lastSeenAt), .int(touch.expiresAt))
        }
        for change in write.changes {
            switch change {
            case .upsert(let cookie):
                try upsert(cookie, key)
            case .delete(let k):
                try db.statement(SQL.deleteCookie).run(key, .text(k.name), .text(k.domain), .text(k.path))
            }
        }
    }

    func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?) throws {
        let updated = try db.statement(SQL.setIdentity).run(
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
        try db.statement(SQL.copyCookies).run(.blob(new.tokenHash.bytes), oldKey)
        try db.statement(SQL.deleteSession).run(oldKey)
    }

    func delete(_ tokenHash: TokenHash) throws {
        try db.statement(SQL.deleteSession).run(.blob(tokenHash.bytes))
    }

    func deleteSessions(openID: String) throws -> Int {
        try db.statement(SQL.deleteByOpenID).run(.text(openID))
    }

    func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) throws {
        try db.statement(SQL.setSharedValue).run(.text(key), .blob(value), .int(expiresAt))
    }

    /// Deletes up to `limit` anonymous sessions last seen before `lastSeenBefore`, least
    /// recently seen first (their cookies go with them); returns their hashes.
    func evictIdleAnonymous(limit: Int, lastSeenBefore: Int64) throws -> [TokenHash] {
        let hashes = try db.statement(SQL.idleAnonymous).query(.int(lastSeenBefore), .int(Int64(limit))) { row in
            TokenHash(bytes: row.blob(0))
        }.compactMap { $0 }
        let delete = try db.statement(SQL.deleteSession)
        for hash in hashes { _ = try delete.run(.blob(hash.bytes)) }
        return hashes
    }

    /// Deletes up to `limit` expired sessions (their cookies go with them); returns how many.
    func sweepSessions(now: Int64, limit: Int) throws -> Int {
        try db.statement(SQL.sweepSessions).run(.int(now), .int(Int64(limit)))
    }

    /// Deletes up to `limit` expired cookies; returns how many.
    func sweepCookies(now: Int64, limit: Int) throws -> Int {
        try db.statement(SQL.sweepCookies).run(.int(now), .int(Int64(limit)))
    }
}
