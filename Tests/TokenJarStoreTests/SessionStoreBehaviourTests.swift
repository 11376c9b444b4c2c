import NIOCore
import Testing
import TokenJarStore

/// One behavioural suite, run against every store.
@Suite("SessionStore behaviour")
struct SessionStoreBehaviourTests {
    @Test("create, load, touch, expire", arguments: StoreKind.allCases)
    func createLoadTouchExpire(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let h = hash(1)
            let record = session(h, at: 1_000, lifetime: 1_000, cookies: [cookie("b"), cookie("a", expiresAt: 1_500)])
            try await store.create(record)

            let loaded = try #require(try await store.load(h, now: 1_200))
            #expect(loaded.createdAt == 1_000 && loaded.lastSeenAt == 1_000 && loaded.expiresAt == 2_000)
            #expect(loaded.identity == nil)
            #expect(loaded.cookies == [cookie("a", expiresAt: 1_500), cookie("b")])
            // An expired cookie is not handed out, the rest of the jar is.
            #expect(try await store.load(h, now: 1_501)?.cookies == [cookie("b")])

            try await store.apply(SessionWrite(tokenHash: h, touch: (lastSeenAt: 1_600, expiresAt: 2_600)))
            var touched = try #require(try await store.load(h, now: 1_600))
            #expect(touched.lastSeenAt == 1_600 && touched.expiresAt == 2_600 && touched.createdAt == 1_000)
            // A late, older touch does not move the times backwards.
            try await store.apply(SessionWrite(tokenHash: h, touch: (lastSeenAt: 1_200, expiresAt: 2_200)))
            touched = try #require(try await store.load(h, now: 1_600))
            #expect(touched.lastSeenAt == 1_600 && touched.expiresAt == 2_600)

            #expect(try await store.load(h, now: 2_600) != nil)
            #expect(try await store.load(h, now: 2_601) == nil)
            #expect(try await store.load(hash(2), now: 1_000) == nil)
        }
    }

    @Test("per-cookie upserts and deletes keep the other cookies", arguments: StoreKind.allCases)
    func perCookieChanges(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let h = hash(1)
            try await store.create(session(h, cookies: [cookie("a"), cookie("b"), cookie("b", path: "/x")]))
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a", "2"))]))
            #expect(try await store.load(h, now: 1_000)?.cookies == [cookie("a", "2"), cookie("b"), cookie("b", path: "/x")])

            try await store.apply(SessionWrite(tokenHash: h, changes: [
                .delete(CookieRecordKey(name: "b", domain: "example.com", path: "/")),
                .upsert(cookie("c")),
                .delete(CookieRecordKey(name: "missing", domain: "example.com", path: "/")),
            ]))
            #expect(try await store.load(h, now: 1_000)?.cookies == [cookie("a", "2"), cookie("b", path: "/x"), cookie("c")])

            // A create for a session that exists changes nothing; its other parts still apply.
            let again = session(h, at: 5_000, cookies: [cookie("z")])
            try await store.apply(SessionWrite(tokenHash: h, create: again, changes: [.upsert(cookie("d"))]))
            let loaded = try #require(try await store.load(h, now: 1_000))
            #expect(loaded.createdAt == 1_000)
            #expect(loaded.cookies.map(\.name) == ["a", "b", "c", "d"])
        }
    }

    @Test("a cookie's sweep time is the whole hour at or after its expiry")
    func sweepTime() {
        #expect(CookieRecord.sweepTime(expiry: 7_200) == 7_200)
        #expect(CookieRecord.sweepTime(expiry: 7_201) == 10_800)
        #expect(CookieRecord.sweepTime(expiry: 10_799) == 10_800)
        #expect(CookieRecord.sweepTime(expiry: 0) == 0)
        #expect(CookieRecord.sweepTime(expiry: -1) == 0)
        #expect(CookieRecord.sweepTime(expiry: -3_601) == -3_600)
        #expect(CookieRecord.sweepTime(expiry: Int64.max - 10) == Int64.max)
        // Expiries that move by seconds within an hour (the 400-day cap) share one sweep time.
        let now: Int64 = 1_800_000_000 - 1_800_000_000 % 3_600
        let cap: Int64 = 400 * 86_400
        #expect(Set((0..<3_600).map { CookieRecord.sweepTime(expiry: now + 1 + $0 + cap) }).count == 1)
    }

    @Test("a cookie replaced with the same expiry or another keeps its newest payload and expiry", arguments: StoreKind.allCases)
    func replaceWithSameAndOtherExpiry(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let h = hash(1)
            try await store.create(session(h, lifetime: 5_000, cookies: [cookie("a", "1", expiresAt: 1_500), cookie("b")]))
            // Same expiry: the payload alone changes.
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a", "2", expiresAt: 1_500))]))
            #expect(try await store.load(h, now: 1_100)?.cookies == [cookie("a", "2", expiresAt: 1_500), cookie("b")])
            // A later expiry: the cookie outlives the old one and no sweep takes it early.
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a", "3", expiresAt: 2_500))]))
            #expect(try await store.sweep(now: 1_600) == 0)
            #expect(try await store.load(h, now: 1_600)?.cookies == [cookie("a", "3", expiresAt: 2_500), cookie("b")])
            // An earlier one: the cookie is gone after it, and a sweep takes its row.
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a", "4", expiresAt: 1_700))]))
            #expect(try await store.load(h, now: 1_701)?.cookies == [cookie("b")])
            _ = try await store.sweep(now: 1_701)
            #expect(try await store.stats() == StoreStats(sessions: 1, loggedIn: 0, cookies: 1))
            // A session cookie (no expiry) replaced by another, then by one with an expiry.
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b", "2"))]))
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b", "3", expiresAt: 1_800))]))
            #expect(try await store.load(h, now: 1_750)?.cookies == [cookie("b", "3", expiresAt: 1_800)])
            // A write to a gone session still fails, whether or not the cookie existed there.
            try await store.delete(h, on: store.loop).get()
            await #expect(throws: StoreError.sessionNotFound) {
                try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b", "4", expiresAt: 1_800))]))
            }
        }
    }

    @Test("delete removes the session and its cookies", arguments: StoreKind.allCases)
    func deleteSession(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.create(session(hash(1), cookies: [cookie("a")]))
            try await store.create(session(hash(2), cookies: [cookie("a")]))
            try await store.delete(hash(1), on: store.loop).get()
            #expect(try await store.load(hash(1), now: 1_000) == nil)
            #expect(try await store.load(hash(2), now: 1_000)?.cookies.count == 1)
            #expect(try await store.stats() == StoreStats(sessions: 1, loggedIn: 0, cookies: 1))
            try await store.delete(hash(1), on: store.loop).get()  // idempotent
        }
    }

    @Test("a write to an unknown session fails with sessionNotFound and creates nothing", arguments: StoreKind.allCases)
    func writeToUnknownSession(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let h = hash(7)
            await #expect(throws: StoreError.sessionNotFound) {
                try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a"))]))
            }
            await #expect(throws: StoreError.sessionNotFound) {
                try await store.apply(SessionWrite(tokenHash: h, touch: (lastSeenAt: 1, expiresAt: 2), changes: [.upsert(cookie("a"))]))
            }
            #expect(try await store.stats() == StoreStats(sessions: 0, loggedIn: 0, cookies: 0))
            // An empty write is a no-op.
            try await store.apply(SessionWrite(tokenHash: h))
        }
    }

    @Test("32 concurrent writes of one token from several event loops keep every cookie", arguments: StoreKind.allCases)
    func concurrentWritesOneToken(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let h = hash(3)
            try await store.create(session(h, cookies: [cookie("base")]))
            let writes = (0..<32).map { i -> EventLoopFuture<Void> in
                let loop = testLoops.next()
                return loop.flatSubmit {
                    store.write(
                        SessionWrite(tokenHash: h, touch: (lastSeenAt: 1_000 + Int64(i), expiresAt: 2_000 + Int64(i)),
                                     changes: [.upsert(cookie("c\(i)", "\(i)"))]),
                        on: loop)
                }
            }
            for write in writes { try await write.get() }
            let loaded = try #require(try await store.load(h, now: 1_000))
            #expect(loaded.cookies.count == 33)
            #expect(Set(loaded.cookies.map(\.name)) == Set(["base"] + (0..<32).map { "c\($0)" }))
            #expect(loaded.lastSeenAt == 1_031 && loaded.expiresAt == 2_031)
        }
    }

    @Test("rotate carries the cookies over to the new token", arguments: StoreKind.allCases)
    func rotate(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (old, new, other) = (hash(1), hash(2), hash(3))
            try await store.create(session(old, cookies: [cookie("a"), cookie("b")]))
            try await store.create(session(other, cookies: [cookie("x")]))
            let identity = SessionIdentity(openID: "o-1", unionID: "u-1", sealedSessionKey: [1, 2, 3])
            let fresh = session(new, at: 1_100, identity: identity, cookies: [cookie("b", "new"), cookie("c")])
            try await store.rotate(from: old, to: fresh, on: store.loop).get()

            #expect(try await store.load(old, now: 1_100) == nil)
            let rotated = try #require(try await store.load(new, now: 1_100))
            #expect(rotated.cookies == [cookie("a"), cookie("b", "new"), cookie("c")])
            #expect(rotated.identity == identity && rotated.createdAt == 1_100)

            await #expect(throws: StoreError.sessionNotFound) {
                try await store.rotate(from: old, to: session(hash(4)), on: store.loop).get()
            }
            await #expect(throws: StoreError.sessionExists) {
                try await store.rotate(from: new, to: session(other), on: store.loop).get()
            }
            // The failed rotation changed nothing.
            #expect(try await store.load(new, now: 1_100)?.cookies.count == 3)
            #expect(try await store.load(other, now: 1_100)?.cookies == [cookie("x")])
            #expect(try await store.stats() == StoreStats(sessions: 2, loggedIn: 1, cookies: 4))
        }
    }

    @Test("identity: set, query by openid, clear", arguments: StoreKind.allCases)
    func identity(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 1...3 { try await store.create(session(hash(n), cookies: [cookie("a")])) }
            let alice = SessionIdentity(openID: "alice", unionID: "u-alice", sealedSessionKey: [9, 9])
            try await store.setIdentity(hash(2), alice, on: store.loop).get()
            try await store.setIdentity(hash(1), SessionIdentity(openID: "alice"), on: store.loop).get()
            try await store.setIdentity(hash(3), SessionIdentity(openID: "bob"), on: store.loop).get()

            let sessions = try await store.sessions(openID: "alice")
            #expect(sessions.map(\.tokenHash) == [hash(1), hash(2)])
            #expect(sessions[1].identity == alice)
            #expect(sessions[1].cookies == [cookie("a")])
            #expect(try await store.sessions(openID: "nobody").isEmpty)
            #expect(try await store.stats().loggedIn == 3)

            try await store.setIdentity(hash(3), nil, on: store.loop).get()
            #expect(try await store.load(hash(3), now: 1_000)?.identity == nil)
            #expect(try await store.stats().loggedIn == 2)
            await #expect(throws: StoreError.sessionNotFound) {
                try await store.setIdentity(hash(9), alice, on: store.loop).get()
            }
        }
    }

    @Test("deleteSessions(openID:) logs one user out everywhere", arguments: StoreKind.allCases)
    func deleteByOpenID(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 1...4 { try await store.create(session(hash(n), cookies: [cookie("a"), cookie("b")])) }
            for n in 1...3 {
                try await store.setIdentity(hash(n), SessionIdentity(openID: n == 3 ? "bob" : "alice"), on: store.loop).get()
            }
            #expect(try await store.deleteSessions(openID: "alice") == 2)
            #expect(try await store.deleteSessions(openID: "alice") == 0)
            #expect(try await store.stats() == StoreStats(sessions: 2, loggedIn: 1, cookies: 4))
            #expect(try await store.load(hash(3), now: 1_000) != nil)
        }
    }

    @Test("sweep removes expired sessions and expired cookies", arguments: StoreKind.allCases)
    func sweep(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Sessions 0..<5 expire at 1_500, 5..<8 at 3_000.
            for n in 0..<8 {
                try await store.create(session(
                    hash(n), at: 1_000, lifetime: n < 5 ? 500 : 2_000,
                    cookies: [cookie("keep"), cookie("old", expiresAt: 1_200), cookie("later", expiresAt: 2_500)]))
            }
            // expires_at == now is not expired yet; the cookies that expired at 1_200 go.
            #expect(try await store.sweep(now: 1_500) == 0)
            #expect(try await store.stats() == StoreStats(sessions: 8, loggedIn: 0, cookies: 16))
            #expect(try await store.sweep(now: 1_501) == 5)
            #expect(try await store.stats() == StoreStats(sessions: 3, loggedIn: 0, cookies: 6))
            let kept = try await store.sessions(hashPrefix: "", limit: 10)
            #expect(kept.map(\.tokenHash) == [hash(5), hash(6), hash(7)])
            #expect(kept.allSatisfy { $0.cookies.map(\.name) == ["keep", "later"] })
            #expect(try await store.sweep(now: 1_501) == 0)
        }
    }

    @Test("listing by hash prefix", arguments: StoreKind.allCases)
    func hashPrefix(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in [0x0100, 0x0101, 0x01ff, 0x0200, 0x1000] { try await store.create(session(hash(n))) }
            #expect(try await store.sessions(hashPrefix: "01", limit: 10).map(\.tokenHash) == [hash(0x0100), hash(0x0101), hash(0x01ff)])
            #expect(try await store.sessions(hashPrefix: "01", limit: 2).map(\.tokenHash) == [hash(0x0100), hash(0x0101)])
            #expect(try await store.sessions(hashPrefix: "010", limit: 10).map(\.tokenHash) == [hash(0x0100), hash(0x0101)])
            #expect(try await store.sessions(hashPrefix: "01FF", limit: 10).map(\.tokenHash) == [hash(0x01ff)])
            #expect(try await store.sessions(hashPrefix: hash(0x0200).hex, limit: 10).map(\.tokenHash) == [hash(0x0200)])
            #expect(try await store.sessions(hashPrefix: "", limit: 10).count == 5)
            #expect(try await store.sessions(hashPrefix: "ff", limit: 10).isEmpty)
            #expect(try await store.sessions(hashPrefix: "01", limit: 0).isEmpty)
            await #expect(throws: StoreError.invalidArgument) {
                try await store.sessions(hashPrefix: "01xz", limit: 10)
            }
        }
    }

    @Test("stats and ping", arguments: StoreKind.allCases)
    func stats(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.ping()
            #expect(try await store.stats() == StoreStats(sessions: 0, loggedIn: 0, cookies: 0))
            try await store.create(session(hash(1), identity: SessionIdentity(openID: "o"), cookies: [cookie("a"), cookie("b")]))
            try await store.create(session(hash(2), cookies: [cookie("a")]))
            #expect(try await store.stats() == StoreStats(sessions: 2, loggedIn: 1, cookies: 3))
        }
    }

    @Test("every operation after shutdown fails with closed", arguments: StoreKind.allCases)
    func closedAfterShutdown(kind: StoreKind) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let (store, release) = try await openStore(kind, in: directory)
        try await store.create(session(hash(1)))
        try await store.shutdown()
        await release()

        let h = hash(1)
        await #expect(throws: StoreError.closed) { try await store.load(h, now: 1_000) }
        await #expect(throws: StoreError.closed) { try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a"))])) }
        await #expect(throws: StoreError.closed) { try await store.apply(SessionWrite(tokenHash: h)) }
        await #expect(throws: StoreError.closed) { try await store.delete(h, on: store.loop).get() }
        await #expect(throws: StoreError.closed) { try await store.setIdentity(h, nil, on: store.loop).get() }
        await #expect(throws: StoreError.closed) { try await store.rotate(from: h, to: session(hash(2)), on: store.loop).get() }
        await #expect(throws: StoreError.closed) { try await store.sweep(now: 1) }
        await #expect(throws: StoreError.closed) { try await store.stats() }
        await #expect(throws: StoreError.closed) { try await store.ping() }
        await #expect(throws: StoreError.closed) { try await store.sessions(openID: "o") }
        await #expect(throws: StoreError.closed) { try await store.sessions(hashPrefix: "", limit: 1) }
        await #expect(throws: StoreError.closed) { try await store.deleteSessions(openID: "o") }
        await #expect(throws: StoreError.closed) { try await store.shutdown() }
    }
}
