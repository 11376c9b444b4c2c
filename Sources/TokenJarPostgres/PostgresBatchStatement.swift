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
    /// One write in the shape the statement takes.
    struct Write: Sendable {
        var tokenHash: TokenHash
        /// The session's times when the write creates it (anonymous, without cookies of its own).
        var create: (createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64)?
        var touch: (lastSeenAt: Int64, expiresAt: Int64)?
        /// Upserts in key order, each cookie once.
        var cookies: [CookieRecord]

        /// Whether it is the plain shape of `PostgresSingleStatementWrite`: cookies of a known session.
        var upsertsOnly: Bool { create == nil && touch == nil }

        init(_ tokenHash: TokenHash, cookies: [CookieRecord]) {
            self.tokenHash = tokenHash
            self.cookies = cookies
        }

        /// `write` in this shape, or nil when it needs the transactional path: it deletes a
        /// cookie, names one twice, creates a session with an identity or cookies of its own,
        /// creates and touches at once, or writes nothing.
        init?(_ write: SessionWrite) {
            guard !write.isEmpty, write.create == nil || write.touch == nil else { return nil }
            if let create = write.create {
                guard create.tokenHash == write.tokenHash, create.identity == nil, create.cookies.isEmpty else {
                    return nil
                }
                self.create = (create.createdAt, create.lastSeenAt, create.expiresAt)
            }
            guard let cookies = PostgresSingleStatementWrite.upserts(write.changes) else { return nil }
            tokenHash = write.tokenHash
            touch = write.touch
            self.cookies = cookies
        }
    }

    /// The rows the statement upserts (after merging cookies set twice).
    let rows: Int
    private let tokens: [ByteBuffer], names: [String], domains: [String], paths: [String]
    private let expiries: [Int64], hasExpiry: [Bool], payloads: [ByteBuffer], locked: [ByteBuffer]
    private let created: [ByteBuffer], createdAt: [Int64], createdSeen: [Int64], createdExpiry: [Int64]
    private let touched: [ByteBuffer], touchedSeen: [Int64], touchedExpiry: [Int64]

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
    var hasSessionChanges: Bool { !created.isEmpty || !touched.isEmpty }

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
        binds.append(locked)
        guard hasSessionChanges else { return PostgresQuery(unsafeSQL: Self.upsertSQL, binds: binds) }
        binds.append(created)
        binds.append(createdAt)
        binds.append(createdSeen)
        binds.append(createdExpiry)
        binds.append(touched)
        binds.append(touchedSeen)
        binds.append(touchedExpiry)
        return PostgresQuery(unsafeSQL: Self.sql, binds: binds)
    }

    /// The binds of the prepared statement (`PostgresLanes`): eight arrays for `upsertSQL`, fifteen
    /// for `sql` (`hasSessionChanges`).
    var preparedBinds: [PostgresData] {
        let upserts = [
            WireArray.bytea(tokens), WireArray.text(names), WireArray.text(domains), WireArray.text(paths),
            WireArray.int8(expiries), WireArray.bool(hasExpiry), WireArray.bytea(payloads), WireArray.bytea(locked),
        ]
        guard hasSessionChanges else { return upserts }
        return upserts + [
            WireArray.bytea(created), WireArray.int8(createdAt), WireArray.int8(createdSeen),
            WireArray.int8(createdExpiry), WireArray.bytea(touched), WireArray.int8(touchedSeen),
            WireArray.int8(touchedExpiry),
        ]
    }

    /// The statement for batches of cookie upserts of known sessions only.
    static let upsertSQL = """
        WITH \(cookieRows),
        \(lockedSessions),
        \(cookieUpserts(joining: "s"))
        SELECT token_hash FROM s
        """

    /// The statement for batches that also create or touch sessions.
    static let sql = """
        WITH \(cookieRows),
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
        \(lockedSessions),
        f AS (
            SELECT token_hash FROM s
            UNION ALL SELECT token_hash FROM t
            UNION ALL SELECT unnest($9::bytea[])
        ),
        \(cookieUpserts(joining: "f"))
        SELECT token_hash FROM f
        """

    /// `v`: the cookie rows, $1 to $7.
    private static let cookieRows = """
        v AS (
            SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                                 $6::boolean[], $7::bytea[]) WITH ORDINALITY
                AS v (token_hash, name, domain, path, expires_at, has_expiry, payload, ord)
        )
        """

    /// `s`: the sessions of $8 that exist, locked in token order.
    private static let lockedSessions = """
        s AS (
            SELECT token_hash FROM tokenjar_sessions WHERE token_hash = ANY ($8::bytea[])
            ORDER BY token_hash FOR KEY SHARE
        )
        """

    /// `u`: the cookie rows of the sessions in `found`, upserted in row order.
    private static func cookieUpserts(joining found: String) -> String {
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

        let sessions = Self.sessionGroups(writes)
        locked = sessions.locked.map { ByteBuffer(bytes: $0.bytes) }
        created = sessions.created.map { ByteBuffer(bytes: $0.hash.bytes) }
        createdAt = sessions.created.map(\.times.createdAt)
        createdSeen = sessions.created.map(\.times.lastSeenAt)
        createdExpiry = sessions.created.map(\.times.expiresAt)
        touched = sessions.touched.map { ByteBuffer(bytes: $0.hash.bytes) }
        touchedSeen = sessions.touched.map(\.times.lastSeenAt)
        touchedExpiry = sessions.touched.map(\.times.expiresAt)
    }

    private struct CookieRow {
        var token: TokenHash
        var cookie: CookieRecord
    }

    /// Every cookie once per token, the last write's value, in (token, key) order.
    private static func cookieRows(_ writes: [Write]) -> [CookieRow] {
        var rows: [CookieRow] = []
        if writes.count == 1 {
            // One write's cookies are distinct and in key order already.
            rows = writes[0].cookies.map { CookieRow(token: writes[0].tokenHash, cookie: $0) }
            return rows
        }
        var latest: [CookieSlot: Int] = [:]
        for write in writes {
            for cookie in write.cookies {
                let slot = CookieSlot(token: write.tokenHash, key: cookie.key)
                if let index = latest[slot] {
                    rows[index].cookie = cookie
                } else {
                    latest[slot] = rows.count
                    rows.append(CookieRow(token: write.tokenHash, cookie: cookie))
                }
            }
        }
        rows.sort { a, b in
            if a.token != b.token { return a.token.bytes.lexicographicallyPrecedes(b.token.bytes) }
            return keyPrecedes(a.cookie.key, b.cookie.key)
        }
        return rows
    }

    /// Each session in one group: created (first create's times), else touched (the latest
    /// times), else locked.
    private static func sessionGroups(_ writes: [Write]) -> (
        locked: [TokenHash], created: [(hash: TokenHash, times: (createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64))],
        touched: [(hash: TokenHash, times: (lastSeenAt: Int64, expiresAt: Int64))]
    ) {
        var order: [TokenHash] = []
        var created: [TokenHash: (createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64)] = [:]
        var touched: [TokenHash: (lastSeenAt: Int64, expiresAt: Int64)] = [:]
        var seen = Set<TokenHash>()
        for write in writes {
            if seen.insert(write.tokenHash).inserted { order.append(write.tokenHash) }
            if let create = write.create, created[write.tokenHash] == nil { created[write.tokenHash] = create }
            if let touch = write.touch {
                let before = touched[write.tokenHash]
                touched[write.tokenHash] = (
                    max(before?.lastSeenAt ?? .min, touch.lastSeenAt), max(before?.expiresAt ?? .min, touch.expiresAt))
            }
        }
        var groups: ([TokenHash], [(TokenHash, (Int64, Int64, Int64))], [(TokenHash, (Int64, Int64))]) = ([], [], [])
        for hash in order {
            if let times = created[hash] {
                groups.1.append((hash, times))
            } else if let times = touched[hash] {
                groups.2.append((hash, times))
            } else {
                groups.0.append(hash)
            }
        }
        return (groups.0, groups.1.map { ($0.0, $0.1) }, groups.2.map { ($0.0, $0.1) })
    }

    private struct CookieSlot: Hashable {
        var token: TokenHash
        var key: CookieRecordKey
    }

    static func keyPrecedes(_ a: CookieRecordKey, _ b: CookieRecordKey) -> Bool {
        if !a.name.utf8.elementsEqual(b.name.utf8) { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
        if !a.domain.utf8.elementsEqual(b.domain.utf8) { return a.domain.utf8.lexicographicallyPrecedes(b.domain.utf8) }
        return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
    }
}
