import NIOCore
import Testing
import TokenJarStore

/// `evictIdleAnonymous`, the store side of the session cap, on every store.
@Suite("Eviction of idle anonymous sessions")
struct EvictionTests {
    @Test("the least recently seen anonymous sessions go first, with their cookies; logged-in ones never", arguments: StoreKind.allCases)
    func evictsOldestAnonymous(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Anonymous sessions last seen at 1_010, 1_020, ...; logged-in ones seen even earlier.
            for n in 1...5 {
                try await store.create(session(hash(n), at: 1_000 + Int64(n) * 10, cookies: [cookie("c\(n)")]))
            }
            for n in 6...7 {
                try await store.create(session(hash(n), at: 900, identity: SessionIdentity(openID: "o\(n)")))
            }
            // A touch makes the first session the most recently seen.
            try await store.apply(SessionWrite(tokenHash: hash(1), touch: (lastSeenAt: 1_100, expiresAt: 2_100)))

            let first = try await store.evictIdleAnonymous(count: 2, lastSeenBefore: 1_200)
            #expect(first == [hash(2), hash(3)])
            #expect(try await store.load(hash(2), now: 1_100) == nil)
            #expect(try await store.load(hash(3), now: 1_100) == nil)
            #expect(try await store.load(hash(4), now: 1_100)?.cookies == [cookie("c4")])

            // Only sessions last seen before the bound are idle.
            let second = try await store.evictIdleAnonymous(count: 10, lastSeenBefore: 1_100)
            #expect(second == [hash(4), hash(5)])
            #expect(try await store.load(hash(1), now: 1_100) != nil)
            #expect(try await store.evictIdleAnonymous(count: 10, lastSeenBefore: 1_100).isEmpty)

            // Logged-in sessions stay however idle they are.
            #expect(try await store.load(hash(6), now: 1_100)?.identity?.openID == "o6")
            #expect(try await store.load(hash(7), now: 1_100)?.identity?.openID == "o7")
            let stats = try await store.stats()
            #expect(stats.sessions == 3 && stats.loggedIn == 2 && stats.cookies == 1)
        }
    }

    @Test("a count of zero evicts nothing; an empty store evicts nothing", arguments: StoreKind.allCases)
    func zeroAndEmpty(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.evictIdleAnonymous(count: 5, lastSeenBefore: 10_000).isEmpty)
            try await store.create(session(hash(1)))
            #expect(try await store.evictIdleAnonymous(count: 0, lastSeenBefore: 10_000).isEmpty)
            #expect(try await store.load(hash(1), now: 1_000) != nil)
        }
    }
}
