import NIOCore
import PostgresNIO
import TokenJarStore

/// The cookie upserts of many writes (each a `PostgresSingleStatementWrite` shape: a known
/// session, distinct cookies) as ONE statement, so a batch costs one round trip and one commit.
///
/// Validate, then apply, set-based: the statement locks every named session row (`FOR KEY SHARE`,
/// in token order), upserts only the cookies whose session row it found, and returns the found
/// tokens. A write whose session is gone fails alone with `sessionNotFound` and writes nothing;
/// the others commit. Rows are bound as arrays (`unnest`), so the statement text depends on
/// nothing but itself and is the same for every batch.
///
/// Cookies go in (token, name, domain, path) order, bytewise as the `C` collation compares, so
/// concurrent batches (of this or another instance) lock rows in one order and cannot deadlock.
/// A cookie set by several writes of the batch is written once, with the value of the last write
/// handed in: the writes commit together, so no reader can see the values between.
struct PostgresBatchStatement {
    /// The rows the statement upserts (after merging cookies set twice).
    let rows: Int
    private let tokens: [ByteBuffer], names: [String], domains: [String], paths: [String]
    private let expiries: [Int64], hasExpiry: [Bool], payloads: [ByteBuffer], sessions: [ByteBuffer]

    /// The statement with its bound arrays.
    var query: PostgresQuery {
        var binds = PostgresBindings(capacity: 8)
        binds.append(tokens)
        binds.append(names)
        binds.append(domains)
        binds.append(paths)
        binds.append(expiries)
        binds.append(hasExpiry)
        binds.append(payloads)
        binds.append(sessions)
        return PostgresQuery(unsafeSQL: Self.sql, binds: binds)
    }

    /// The binds of `sql` prepared (`PostgresLanes`): the same eight arrays.
    var preparedBinds: [PostgresData] {
        [
            WireArray.bytea(tokens), WireArray.text(names), WireArray.text(domains), WireArray.text(paths),
            WireArray.int8(expiries), WireArray.bool(hasExpiry), WireArray.bytea(payloads), WireArray.bytea(sessions),
        ]
    }

    static let sql = """
        WITH v AS (
            SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                                 $6::boolean[], $7::bytea[]) WITH ORDINALITY
                AS v (token_hash, name, domain, path, expires_at, has_expiry, payload, ord)
        ),
        s AS (
            SELECT token_hash FROM tokenjar_sessions WHERE token_hash = ANY ($8::bytea[])
            ORDER BY token_hash FOR KEY SHARE
        ),
        u AS (
            INSERT INTO tokenjar_cookies (token_hash, name, domain, path, expires_at, payload)
            SELECT v.token_hash, v.name, v.domain, v.path,
                   CASE WHEN v.has_expiry THEN v.expires_at END, v.payload
            FROM v JOIN s ON s.token_hash = v.token_hash ORDER BY v.ord
            ON CONFLICT (token_hash, name, domain, path)
            DO UPDATE SET expires_at = excluded.expires_at, payload = excluded.payload
        )
        SELECT token_hash FROM s
        """

    /// The statement for `writes`, each given with its upserts (`PostgresSingleStatementWrite.upserts`).
    init(_ writes: [(tokenHash: TokenHash, cookies: [CookieRecord])]) {
        struct Row {
            var token: [UInt8]
            var cookie: CookieRecord
        }
        // Last write wins per (token, cookie): later rows replace earlier ones.
        var latest: [CookieSlot: Int] = [:]
        var rows: [Row] = []
        for write in writes {
            for cookie in write.cookies {
                let slot = CookieSlot(token: write.tokenHash, key: cookie.key)
                if let index = latest[slot] {
                    rows[index].cookie = cookie
                } else {
                    latest[slot] = rows.count
                    rows.append(Row(token: write.tokenHash.bytes, cookie: cookie))
                }
            }
        }
        rows.sort { a, b in
            if a.token != b.token { return a.token.lexicographicallyPrecedes(b.token) }
            return Self.keyPrecedes(a.cookie.key, b.cookie.key)
        }
        var tokens: [ByteBuffer] = [], names: [String] = [], domains: [String] = [], paths: [String] = []
        var expiries: [Int64] = [], hasExpiry: [Bool] = [], payloads: [ByteBuffer] = []
        for row in rows {
            tokens.append(ByteBuffer(bytes: row.token))
            names.append(row.cookie.name)
            domains.append(row.cookie.domain)
            paths.append(row.cookie.path)
            expiries.append(row.cookie.expiresAt ?? 0)
            hasExpiry.append(row.cookie.expiresAt != nil)
            payloads.append(ByteBuffer(bytes: row.cookie.payload))
        }
        self.sessions = Set(writes.map(\.tokenHash)).map { ByteBuffer(bytes: $0.bytes) }
        (self.tokens, self.names, self.domains, self.paths) = (tokens, names, domains, paths)
        (self.expiries, self.hasExpiry, self.payloads) = (expiries, hasExpiry, payloads)
        self.rows = rows.count
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
