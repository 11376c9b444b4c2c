import Logging
import NIOCore
import PostgresNIO
import TokenJarStore

/// The store's reads. Each is one statement, so it sees one committed state: a session and its
/// cookies come from one join, never from two snapshots.
enum PostgresReads {
    private static let columns = """
        s.token_hash, s.created_at, s.last_seen_at, s.expires_at, s.openid, s.unionid, s.session_key,
        c.name, c.domain, c.path, c.expires_at, c.payload
        """

    /// The live session of a token with its live cookies, or nil.
    static func load(_ hash: TokenHash, now: Int64, _ db: PostgresConnection, _ logger: Logger) async throws
        -> SessionRecord?
    {
        try await collect(db.query(loadQuery(hash, now: now), logger: logger)).first
    }

    /// The statement of `load`: one row per live cookie (or one row with none), in cookie order.
    static func loadQuery(_ hash: TokenHash, now: Int64) -> PostgresQuery {
        """
        SELECT \(unescaped: columns)
        FROM tokenjar_sessions s
        LEFT JOIN tokenjar_cookies c
            ON c.token_hash = s.token_hash AND (c.expires_at IS NULL OR c.expires_at >= \(now))
        WHERE s.token_hash = \(ByteBuffer(bytes: hash.bytes)) AND s.expires_at >= \(now)
        ORDER BY c.name, c.domain, c.path
        """
    }

    /// `loadQuery` as a statement to prepare: `$1` the token hash, `$2` now.
    static let preparedLoad = """
        SELECT \(columns)
        FROM tokenjar_sessions s
        LEFT JOIN tokenjar_cookies c
            ON c.token_hash = s.token_hash AND (c.expires_at IS NULL OR c.expires_at >= $2)
        WHERE s.token_hash = $1 AND s.expires_at >= $2
        ORDER BY c.name, c.domain, c.path
        """

    /// The binds of `preparedLoad`.
    static func preparedLoadBinds(_ hash: TokenHash, now: Int64) -> [PostgresData] {
        [PostgresData(bytes: hash.bytes), PostgresData(int64: now)]
    }

    /// Every session of an openid, with all its cookies, in hash order.
    static func sessions(openID: String, _ db: PostgresConnection, _ logger: Logger) async throws -> [SessionRecord] {
        let rows = try await db.query("""
            SELECT \(unescaped: columns)
            FROM tokenjar_sessions s LEFT JOIN tokenjar_cookies c ON c.token_hash = s.token_hash
            WHERE s.openid = \(openID)
            ORDER BY s.token_hash, c.name, c.domain, c.path
            """, logger: logger)
        return try await collect(rows)
    }

    /// Up to `limit` sessions whose hash lies in `lower...upper`, with all their cookies.
    static func sessions(lower: [UInt8], upper: [UInt8], limit: Int, _ db: PostgresConnection, _ logger: Logger)
        async throws -> [SessionRecord]
    {
        let rows = try await db.query("""
            SELECT \(unescaped: columns)
            FROM (SELECT * FROM tokenjar_sessions
                  WHERE token_hash BETWEEN \(ByteBuffer(bytes: lower)) AND \(ByteBuffer(bytes: upper))
                  ORDER BY token_hash LIMIT \(Int64(limit))) s
            LEFT JOIN tokenjar_cookies c ON c.token_hash = s.token_hash
            ORDER BY s.token_hash, c.name, c.domain, c.path
            """, logger: logger)
        return try await collect(rows)
    }

    static func sharedValue(_ key: String, _ db: PostgresConnection, _ logger: Logger) async throws
        -> (value: [UInt8], expiresAt: Int64)?
    {
        let rows = try await db.query(
            "SELECT value, expires_at FROM tokenjar_shared_values WHERE key = \(key)", logger: logger)
        for try await (value, expiresAt) in rows.decode((ByteBuffer, Int64).self) {
            return (Array(value.readableBytesView), expiresAt)
        }
        return nil
    }

    static func stats(_ db: PostgresConnection, _ logger: Logger) async throws -> StoreStats {
        let rows = try await db.query("""
            SELECT (SELECT count(*) FROM tokenjar_sessions),
                   (SELECT count(*) FROM tokenjar_sessions WHERE openid IS NOT NULL),
                   (SELECT count(*) FROM tokenjar_cookies)
            """, logger: logger)
        for try await (sessions, loggedIn, cookies) in rows.decode((Int64, Int64, Int64).self) {
            return StoreStats(sessions: Int(sessions), loggedIn: Int(loggedIn), cookies: Int(cookies))
        }
        return StoreStats(sessions: 0, loggedIn: 0, cookies: 0)
    }

    static func ping(_ db: PostgresConnection, _ logger: Logger) async throws {
        _ = try await db.count("SELECT 1 FROM tokenjar_schema_migrations LIMIT 1", logger: logger)
    }

    /// Folds joined rows (ordered by session) into sessions with their cookies.
    private static func collect(_ rows: PostgresRowSequence) async throws -> [SessionRecord] {
        var all: [PostgresRow] = []
        for try await row in rows { all.append(row) }
        return try sessions(from: all)
    }

    /// The first column of a row, as bytes (read as binary, as `decode` explains).
    static func firstBytes(_ row: PostgresRow) throws -> ByteBuffer {
        guard let cell = row.first else { throw StoreError.corrupt.with(detail: "a stored row has no column") }
        return try StoredCell(cell).bytes()
    }

    /// Folds the rows of `loadQuery` (or any query of `columns`, ordered by session) into
    /// sessions with their cookies. postgres-nio asks for every result column in binary, but the
    /// rows of a statement prepared through `PreparedQuery` carry the text format that describing
    /// the statement reported: each cell is read as the binary it is (`StoredCell`), straight
    /// into the records.
    static func sessions(from rows: [PostgresRow]) throws -> [SessionRecord] {
        var sessions: [SessionRecord] = []
        for row in rows {
            var cells = row.makeIterator()
            func next() throws -> StoredCell {
                guard let cell = cells.next() else {
                    throw StoreError.corrupt.with(detail: "a stored row has too few columns")
                }
                return StoredCell(cell)
            }
            guard let hash = TokenHash(bytes: try next().bytes().readableBytesView) else {
                throw StoreError.corrupt.with(detail: "a session key is not 32 bytes")
            }
            let (createdAt, lastSeenAt, expiresAt) = (try next().int64(), try next().int64(), try next().int64())
            let (openID, unionID, sessionKey) = (try next().optionalText(), try next().optionalText(), try next().optionalBytes())
            if sessions.last?.tokenHash != hash {
                let identity = openID.map {
                    SessionIdentity(openID: $0, unionID: unionID, sealedSessionKey: sessionKey.map { Array($0.readableBytesView) })
                }
                sessions.append(SessionRecord(
                    tokenHash: hash, createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt,
                    identity: identity))
            }
            let (name, domain, path) = (try next().optionalText(), try next().optionalText(), try next().optionalText())
            let (cookieExpiry, payload) = (try next().optionalInt64(), try next().optionalBytes())
            if let name, let domain, let path, let payload {
                sessions[sessions.count - 1].cookies.append(CookieRecord(
                    name: name, domain: domain, path: path, expiresAt: cookieExpiry,
                    payload: Array(payload.readableBytesView)))
            }
        }
        return sessions
    }
}
