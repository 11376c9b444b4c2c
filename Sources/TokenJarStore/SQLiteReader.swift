import Logging
import NIOCore

/// A read connection as read jobs see it. Each operation runs in its own short read
/// transaction, so it sees one committed state and never holds an old snapshot afterwards.
/// Confined to its reader thread.
final class SQLiteReadContext {
    let db: SQLiteConnection

    /// Every statement of a reader, prepared once when the context is made.
    enum Statement: Int, CaseIterable {
        case begin, commit
        case liveSession, liveCookies, allCookies, byOpenID, byHashRange, sharedValue, counts, ping

        private static let sessionColumns = "token_hash, created_at, last_seen_at, expires_at, openid, unionid, session_key"

        var sql: String {
            switch self {
            case .begin: "BEGIN"
            case .commit: "COMMIT"
            case .liveSession: "SELECT \(Self.sessionColumns) FROM sessions WHERE token_hash = ? AND expires_at >= ?"
            case .liveCookies:
                """
                SELECT name, domain, path, expires_at, payload FROM cookies
                WHERE token_hash = ? AND (expires_at IS NULL OR expires_at >= ?) ORDER BY name, domain, path
                """
            case .allCookies:
                """
                SELECT name, domain, path, expires_at, payload FROM cookies WHERE token_hash = ? ORDER BY name, domain, path
                """
            case .byOpenID: "SELECT \(Self.sessionColumns) FROM sessions WHERE openid = ? ORDER BY token_hash"
            case .byHashRange:
                """
                SELECT \(Self.sessionColumns) FROM sessions WHERE token_hash BETWEEN ? AND ? ORDER BY token_hash LIMIT ?
                """
            case .sharedValue: "SELECT value, expires_at FROM shared_values WHERE key = ?"
            case .counts:
                """
                SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE openid IS NOT NULL),
                       (SELECT count(*) FROM cookies)
                """
            case .ping: "SELECT count(*) FROM schema_migrations"
            }
        }
    }

    /// The prepared statements, indexed by `Statement.rawValue`.
    private let statements: [SQLiteStatement]

    /// Prepares every statement of a reader on `db` (migrated).
    init(db: SQLiteConnection) throws {
        self.db = db
        statements = try Statement.allCases.map { try db.prepare($0.sql) }
    }

    private func statement(_ which: Statement) -> SQLiteStatement { statements[which.rawValue] }

    private func readTransaction<R>(_ body: () throws -> R) throws -> R {
        try statement(.begin).run()
        do {
            let value = try body()
            try statement(.commit).run()
            return value
        } catch {
            if !db.isAutocommit { try? db.exec("ROLLBACK") }
            throw error
        }
    }

    private static func session(_ row: SQLiteStatement) throws -> SessionRecord {
        guard let hash = TokenHash(bytes: row.blob(0)) else {
            throw StoreError.corrupt.with(detail: "a session key is not 32 bytes")
        }
        let identity = row.optionalText(4).map {
            SessionIdentity(openID: $0, unionID: row.optionalText(5), sealedSessionKey: row.optionalBlob(6))
        }
        return SessionRecord(
            tokenHash: hash, createdAt: row.int64(1), lastSeenAt: row.int64(2), expiresAt: row.int64(3),
            identity: identity)
    }

    private static func cookie(_ row: SQLiteStatement) -> CookieRecord {
        CookieRecord(
            name: row.text(0), domain: row.text(1), path: row.text(2), expiresAt: row.optionalInt64(3),
            payload: row.blob(4))
    }

    private func withAllCookies(_ sessions: [SessionRecord]) throws -> [SessionRecord] {
        let cookies = statement(.allCookies)
        return try sessions.map { session in
            var session = session
            session.cookies = try cookies.query(.blob(session.tokenHash.bytes), row: Self.cookie)
            return session
        }
    }

    func load(_ tokenHash: TokenHash, now: Int64) throws -> SessionRecord? {
        try readTransaction {
            let key = SQLiteValue.blob(tokenHash.bytes)
            guard var session = try statement(.liveSession).queryFirst(key, .int(now), row: Self.session) else {
                return nil
            }
            session.cookies = try statement(.liveCookies).query(key, .int(now), row: Self.cookie)
            return session
        }
    }

    func sessions(openID: String) throws -> [SessionRecord] {
        try readTransaction {
            try withAllCookies(try statement(.byOpenID).query(.text(openID), row: Self.session))
        }
    }

    func sessions(hashRange: (lower: [UInt8], upper: [UInt8]), limit: Int) throws -> [SessionRecord] {
        try readTransaction {
            let rows = try statement(.byHashRange).query(
                .blob(hashRange.lower), .blob(hashRange.upper), .int(Int64(limit)), row: Self.session)
            return try withAllCookies(rows)
        }
    }

    func sharedValue(_ key: String) throws -> (value: [UInt8], expiresAt: Int64)? {
        try statement(.sharedValue).queryFirst(.text(key)) { row in (row.blob(0), row.int64(1)) }
    }

    func stats() throws -> StoreStats {
        try statement(.counts).queryFirst { row in
            StoreStats(sessions: Int(row.int64(0)), loggedIn: Int(row.int64(1)), cookies: Int(row.int64(2)))
        } ?? StoreStats(sessions: 0, loggedIn: 0, cookies: 0)
    }

    func ping() throws {
        _ = try statement(.ping).queryFirst { $0.int64(0) }
    }
}

/// Reader threads, each with its own connection, sharing one queue. In WAL mode they read
/// beside the writer without waiting for it.
final class SQLiteReaderPool: SQLiteJobSubmitting {
    private typealias Job = @Sendable (SQLiteReadContext) -> Void
    private let queue = WorkQueue<Job>()
    private let exit: ThreadExit

    /// Takes over `contexts` (their connections configured) and starts one thread for each.
    init(contexts: [SQLiteReadContext], logger: Logger) {
        exit = ThreadExit(count: contexts.count)
        for (index, owned) in contexts.enumerated() {
            let handover = Handover(value: owned)
            let (queue, exit) = (self.queue, self.exit)
            startThread(name: "tokenjar-sqlite-reader-\(index)") {
                let context = handover.value
                while let job = queue.pop(max: 1).first { job(context) }
                context.db.close()
                exit.threadDidExit()
            }
        }
    }

    func submit<R: Sendable>(
        _ body: @escaping @Sendable (SQLiteReadContext) throws -> R,
        completion: @escaping @Sendable (Result<R, Error>) -> Void
    ) {
        if !queue.push({ context in completion(Result { try body(context) }) }) {
            completion(.failure(StoreError.closed))
        }
    }

    /// Queues a read from an event loop; the future completes on that loop. Called on the loop
    /// itself, a reader is woken once at the end of the loop's tick rather than for each read,
    /// so a tick's cache misses cost one thread switch, not one each (see
    /// `SQLiteWriter.submitGrouped`).
    func submitGrouped<R: Sendable>(
        on eventLoop: any EventLoop, _ body: @escaping @Sendable (SQLiteReadContext) throws -> R
    ) -> EventLoopFuture<R> {
        let promise = eventLoop.makePromise(of: R.self)
        let job: Job = { context in promise.completeWith(Result { try body(context) }) }
        if !queue.push(job, groupedOn: eventLoop) { promise.fail(StoreError.closed) }
        return promise.futureResult
    }

    /// Refuses new reads, finishes the queued ones and closes the connections.
    func shutdown() async {
        queue.close()
        await exit.wait()
    }

    deinit { queue.close() }
}
