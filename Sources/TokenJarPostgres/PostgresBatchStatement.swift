import NIOCore
import PostgresNIO
import TokenJarStore

/// The data plane's writes of many requests as ONE statement, so a batch costs one round trip
/// and one commit. A write may create its session, touch it, and upsert its cookies
/// (`PostgresBatchStatement.Write`); anything else takes the store's transactional path.
///
/// Validate, then apply, set-based. Each session of the batch is in one of three groups:
/// - created: inserted unless it exists already (then left as it is, as the transactional path
///   does); its cookies are written either way;
/// - touched: its times move forward (never back); the update is the existence check;
/// - the rest: locked (`FOR KEY SHARE`, in token order) as the existence check.
/// Cookies are upserted only for sessions found, and the found sessions are returned. A write
/// whose session is gone fails alone with `sessionNotFound` and writes nothing; the others
/// commit. Rows are bound as arrays (`unnest`), so the statement text is the same for every
/// batch. The cookie rows of a created session pass their foreign-key check at the end of the
/// statement, where the inserted session is visible.
///
/// Cookies go in (token, name, domain, path) order, bytewise as the `C` collation compares, so
/// concurrent batches (of this or another instance) lock rows in one order and cannot deadlock.
/// A cookie set by several writes of the batch is written once, with the value of the last write
/// handed in, and several touches of one session are one touch to the latest times: the writes
/// commit together, so no reader can see the states between.
struct PostgresBatchStatement {
    /// The rows the statement upserts (after merging cookies set twice).
    let rows: Int
    private let tokens: [ByteBuffer], names: [String], domains: [String], paths: [String]
    private let expiries: [Int64], hasExpiry: [Bool], payloads: [ByteBuffer]
    private let sessions: SessionGroups

    /// Whether `writes` can share one statement: no session is both created and touched in it.
    /// (A touch of a session created in the same statement would not see the new row.)
    static func canShare(_ writes: [Write]) -> Bool {
        var creates = Set<TokenHash>(), touches = Set<TokenHash>()
        for write in writes {
            if write.create != nil { creates.insert(write.tokenHash) }
            if write.touch != nil { touches.insert(write.tokenHash) }
        }
        return creates.isDisjoint(with: touches)
    }

    /// Whether the batch creates or touches a session: it then needs `sql`; else `upsertSQL`,
    /// whose plan the server does not spend on empty session arrays.
    var hasSessionChanges: Bool { !sessions.created.isEmpty || !sessions.touched.isEmpty }

    /// The statement with its bound arrays.
    var query: PostgresQuery {
        var binds = PostgresBindings(capacity: 15)
        binds.append(tokens)
        binds.append(names)
        binds.append(domains)
        binds.append(paths)
        binds.append(expiries)
        binds.append(hasExpiry)
        binds.append(payloads)
        binds.append(sessions.locked)
        guard hasSessionChanges else { return PostgresQuery(unsafeSQL: Self.upsertSQL, binds: binds) }
        binds.append(sessions.created)
        binds.append(sessions.createdAt)
        binds.append(sessions.createdSeen)
        binds.append(sessions.createdExpiry)
        binds.append(sessions.touched)
        binds.append(sessions.touchedSeen)
        binds.append(sessions.touchedExpiry)
        return PostgresQuery(unsafeSQL: Self.sql, binds: binds)
    }

    /// The binds of the prepared statement (`PostgresLanes`): eight arrays for `upsertSQL`, fifteen
    /// for `sql` (`hasSessionChanges`).
    var preparedBinds: [PostgresData] {
        let upserts = [
            WireArray.bytea(tokens), WireArray.text(names), WireArray.text(domains), WireArray.text(paths),
            WireArray.int8(expiries), WireArray.bool(hasExpiry), WireArray.bytea(payloads),
            WireArray.bytea(sessions.locked),
        ]
        guard hasSessionChanges else { return upserts }
        let s = sessions
        return upserts + [
            WireArray.bytea(s.created), WireArray.int8(s.createdAt), WireArray.int8(s.createdSeen),
            WireArray.int8(s.createdExpiry), WireArray.bytea(s.touched), WireArray.int8(s.touchedSeen),
            WireArray.int8(s.touchedExpiry),
        ]
    }

    /// The statement for batches of cookie upserts of known sessions only.
    static let upsertSQL = """
        WITH \(valuesCTE),
        \(lockedCTE),
        \(upsertCTE(joining: "s"))
        SELECT token_hash FROM s
        """

    /// The statement for batches that also create or touch sessions.
    static let sql = """
        WITH \(valuesCTE),
        c AS (
            INSERT INTO tokenjar_sessions (token_hash, created_at, last_seen_at, expires_at)
            SELECT * FROM unnest($9::bytea[], $10::bigint[], $11::bigint[], $12::bigint[])
                AS n (token_hash, created_at, last_seen_at, expires_at)
            ORDER BY token_hash
            ON CONFLICT (token_hash) DO NOTHING
        ),
        t AS (
            UPDATE tokenjar_sessions AS t
            SET last_seen_at = GREATEST(t.last_seen_at, x.last_seen_at),
                expires_at = GREATEST(t.expires_at, x.expires_at)
            FROM unnest($13::bytea[], $14::bigint[], $15::bigint[]) AS x (token_hash, last_seen_at, expires_at)
            WHERE t.token_hash = x.token_hash
            RETURNING t.token_hash
        ),
        \(lockedCTE),
        f AS (
            SELECT token_hash FROM s
            UNION ALL SELECT token_hash FROM t
            UNION ALL SELECT unnest($9::bytea[])
        ),
        \(upsertCTE(joining: "f"))
        SELECT token_hash FROM f
        """

    /// `v`: the cookie rows, $1 to $7.
    private static let valuesCTE = """
        v AS (
            SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                                 $6::boolean[], $7::bytea[]) WITH ORDINALITY
                AS v (token_hash, name, domain, path, expires_at, has_expiry, payload, ord)
        )
        """

    /// `s`: the sessions of $8 that exist, locked in token order.
    private static let lockedCTE = """
        s AS (
            SELECT token_hash FROM tokenjar_sessions WHERE token_hash = ANY ($8::bytea[])
            ORDER BY token_hash FOR KEY SHARE
        )
        """

    /// `u`: the cookie rows of the sessions in `found`, upserted in row order.
    private static func upsertCTE(joining found: String) -> String {
        """
        u AS (
            INSERT INTO tokenjar_cookies (token_hash, name, domain, path, expires_at, payload)
            SELECT v.token_hash, v.name, v.domain, v.path,
                   CASE WHEN v.has_expiry THEN v.expires_at END, v.payload
            FROM v JOIN \(found) ON \(found).token_hash = v.token_hash ORDER BY v.ord
            ON CONFLICT (token_hash, name, domain, path)
            DO UPDATE SET expires_at = excluded.expires_at, payload = excluded.payload
        )
        """
    }

    /// The statement for upserts only, each write given with its cookies (`PostgresSingleStatementWrite.upserts`).
    init(_ writes: [(tokenHash: TokenHash, cookies: [CookieRecord])]) {
        self.init(writes.map { Write($0.tokenHash, cookies: $0.cookies) })
    }

    /// The statement for `writes`, which must pass `canShare`.
    init(_ writes: [Write]) {
        let rows = Self.cookieRows(writes)
        var tokens: [ByteBuffer] = [], names: [String] = [], domains: [String] = [], paths: [String] = []
        var expiries: [Int64] = [], hasExpiry: [Bool] = [], payloads: [ByteBuffer] = []
        tokens.reserveCapacity(rows.count)
        for row in rows {
            tokens.append(ByteBuffer(bytes: row.token.bytes))
            names.append(row.cookie.name)
            domains.append(row.cookie.domain)
            paths.append(row.cookie.path)
            expiries.append(row.cookie.expiresAt ?? 0)
            hasExpiry.append(row.cookie.expiresAt != nil)
            payloads.append(ByteBuffer(bytes: row.cookie.payload))
        }
        (self.tokens, self.names, self.domains, self.paths) = (tokens, names, domains, paths)
        (self.expiries, self.hasExpiry, self.payloads) = (expiries, hasExpiry, payloads)
        self.rows = rows.count

        sessions = SessionGroups(writes)
    }

    static func keyPrecedes(_ a: CookieRecordKey, _ b: CookieRecordKey) -> Bool {
        if !a.name.utf8.elementsEqual(b.name.utf8) { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
        if !a.domain.utf8.elementsEqual(b.domain.utf8) { return a.domain.utf8.lexicographicallyPrecedes(b.domain.utf8) }
        return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
    }
}
