import NIOCore
import PostgresNIO
import TokenJarStore

/// The data plane's usual write, a response that sets cookies of a known session, as ONE
/// statement: one round trip and one implicit transaction instead of BEGIN, an existence
/// check, one upsert per cookie and COMMIT.
///
/// The statement locks the session row (`FOR KEY SHARE`, as the transactional path does, so a
/// concurrent delete waits for it), upserts every cookie joined to that row, and returns its hash:
/// no row means the session is gone and nothing was written. The write commits before the
/// statement's answer arrives, so every instance reads the new jar at once, as before.
/// Cookies go in key order (`PostgresWrites.lockOrder`), so concurrent writes of one token lock
/// their rows in the same order.
enum PostgresSingleStatementWrite {
    /// The statement for `write`, or nil when the write needs the general transaction: it creates
    /// or touches the session, deletes a cookie, names one cookie twice, or has nothing to write.
    static func query(for write: SessionWrite) -> PostgresQuery? {
        guard let cookies = upserts(of: write) else { return nil }
        return query(write.tokenHash, cookies)
    }

    /// The cookies `write` upserts, in key order, or nil when it is not a write of this shape.
    static func upserts(of write: SessionWrite) -> [CookieRecord]? {
        guard write.create == nil, write.touch == nil, !write.changes.isEmpty else { return nil }
        return upserts(write.changes)
    }

    /// `changes` as upserts in key order, or nil when one deletes a cookie or names one twice.
    static func upserts(_ changes: [CookieChange]) -> [CookieRecord]? {
        var cookies: [CookieRecord] = []
        cookies.reserveCapacity(changes.count)
        for change in PostgresWrites.lockOrder(changes) {
            guard case .upsert(let cookie) = change else { return nil }
            // Sorted by key: a cookie named twice sits next to itself.
            if let last = cookies.last, last.key == cookie.key { return nil }
            cookies.append(cookie)
        }
        return cookies
    }

    /// The statement for the upserts of one session, `cookies` in key order.
    static func query(_ tokenHash: TokenHash, _ cookies: [CookieRecord]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: 1 + 5 * cookies.count)
        binds.append(ByteBuffer(bytes: tokenHash.bytes))
        var rows: [String] = []
        rows.reserveCapacity(cookies.count)
        for (i, cookie) in cookies.enumerated() {
            let p = 2 + 5 * i
            rows.append("($\(p)::text, $\(p + 1)::text, $\(p + 2)::text, $\(p + 3)::bigint, $\(p + 4)::bytea)")
            binds.append(cookie.name)
            binds.append(cookie.domain)
            binds.append(cookie.path)
            binds.append(cookie.expiresAt)
            binds.append(ByteBuffer(bytes: cookie.payload))
        }
        let sql = """
            WITH s AS (SELECT token_hash FROM tokenjar_sessions WHERE token_hash = $1 FOR KEY SHARE),
            u AS (
                INSERT INTO tokenjar_cookies (token_hash, name, domain, path, expires_at, payload)
                SELECT s.token_hash, v.name, v.domain, v.path, v.expires_at, v.payload
                FROM s CROSS JOIN (VALUES \(rows.joined(separator: ", "))) AS v (name, domain, path, expires_at, payload)
                ON CONFLICT (token_hash, name, domain, path)
                DO UPDATE SET expires_at = excluded.expires_at, payload = excluded.payload
            )
            SELECT token_hash FROM s
            """
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
