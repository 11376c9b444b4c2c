import NIOCore
import TokenJarStore

/// The rows of a batch: the writes it takes, its cookie rows merged and ordered, and its
/// sessions grouped, as `PostgresBatchStatement` binds them.
extension PostgresBatchStatement {
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

    struct CookieRow {
        var token: TokenHash
        var cookie: CookieRecord
    }

    /// Every cookie once per token, the last write's value, in (token, key) order.
    static func cookieRows(_ writes: [Write]) -> [CookieRow] {
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

    /// The batch's sessions as the statement binds them, each in one group.
    struct SessionGroups {
        var locked: [ByteBuffer] = []
        var created: [ByteBuffer] = [], createdAt: [Int64] = [], createdSeen: [Int64] = [], createdExpiry: [Int64] = []
        var touched: [ByteBuffer] = [], touchedSeen: [Int64] = [], touchedExpiry: [Int64] = []

        /// Created (the first create's times), else touched (the latest times), else locked; in
        /// the order the writes first name them.
        init(_ writes: [Write]) {
            var order: [TokenHash] = []
            var seen = Set<TokenHash>()
            var creates: [TokenHash: (createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64)] = [:]
            var touches: [TokenHash: (lastSeenAt: Int64, expiresAt: Int64)] = [:]
            for write in writes {
                let hash = write.tokenHash
                if seen.insert(hash).inserted { order.append(hash) }
                if let create = write.create, creates[hash] == nil { creates[hash] = create }
                if let touch = write.touch {
                    let before = touches[hash] ?? touch
                    touches[hash] = (max(before.lastSeenAt, touch.lastSeenAt), max(before.expiresAt, touch.expiresAt))
                }
            }
            for hash in order {
                let bytes = ByteBuffer(bytes: hash.bytes)
                if let times = creates[hash] {
                    created.append(bytes)
                    createdAt.append(times.createdAt)
                    createdSeen.append(times.lastSeenAt)
                    createdExpiry.append(times.expiresAt)
                } else if let times = touches[hash] {
                    touched.append(bytes)
                    touchedSeen.append(times.lastSeenAt)
                    touchedExpiry.append(times.expiresAt)
                } else {
                    locked.append(bytes)
                }
            }
        }
    }

    private struct CookieSlot: Hashable {
        var token: TokenHash
        var key: CookieRecordKey
    }
}
