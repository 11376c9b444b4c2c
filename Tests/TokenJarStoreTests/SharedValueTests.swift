import Foundation
import Testing

@testable import TokenJarStore

/// The small key-value every gateway instance on a store shares (a cached access token).
extension SessionStoreBehaviourTests {
    @Test("shared values: unknown is nil, set, replace, expired values are still returned", arguments: StoreKind.allCases)
    func sharedValues(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.sharedValue("wechat.access_token") == nil)

            try await store.setSharedValue("wechat.access_token", Array("first".utf8), expiresAt: 2_000)
            let first = try #require(try await store.sharedValue("wechat.access_token"))
            #expect(first.value == Array("first".utf8) && first.expiresAt == 2_000)

            // The last writer wins, whether its expiry is later or earlier.
            try await store.setSharedValue("wechat.access_token", Array("second".utf8), expiresAt: 1_500)
            let second = try #require(try await store.sharedValue("wechat.access_token"))
            #expect(second.value == Array("second".utf8) && second.expiresAt == 1_500)

            // Keys are independent, values may be empty, and sweeping leaves them alone: the
            // caller judges expiry with its own clock.
            try await store.setSharedValue("other", [], expiresAt: 10)
            _ = try await store.sweep(now: 5_000)
            #expect(try await store.sharedValue("other")?.value == [])
            #expect(try await store.sharedValue("other")?.expiresAt == 10)
            #expect(try await store.sharedValue("wechat.access_token")?.value == Array("second".utf8))
            #expect(try await store.stats() == StoreStats(sessions: 0, loggedIn: 0, cookies: 0))
        }
    }

    @Test("shared values fail with closed after shutdown", arguments: StoreKind.allCases)
    func sharedValuesAfterShutdown(kind: StoreKind) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let store: any SessionStore = kind == .memory
            ? MemorySessionStore() : try SQLiteSessionStore(path: directory.appendingPathComponent("s.db").path)
        try await store.setSharedValue("k", [1], expiresAt: 1)
        try await store.shutdown()
        await #expect(throws: StoreError.closed) { try await store.sharedValue("k") }
        await #expect(throws: StoreError.closed) { try await store.setSharedValue("k", [2], expiresAt: 2) }
    }
}

@Suite("SQLite shared values")
struct SQLiteSharedValueTests {
    @Test("a shared value survives reopening the file")
    func survivesReopen() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory.appendingPathComponent("sessions.db").path
        var store = try SQLiteSessionStore(path: path)
        try await store.setSharedValue("k", [9, 8, 7], expiresAt: 42)
        try await store.shutdown()
        store = try SQLiteSessionStore(path: path)
        let value = try #require(try await store.sharedValue("k"))
        #expect(value.value == [9, 8, 7] && value.expiresAt == 42)
        try await store.shutdown()
    }

    @Test("a version-1 database is migrated to version 2 and keeps its sessions")
    func migratesFromVersionOne() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory.appendingPathComponent("sessions.db").path
        // A store as the first schema left it: migration 1 only.
        do {
            let raw = try RawSQLite(path: path)
            let first = try #require(SQLiteMigrations.all.first { $0.version == 1 })
            try raw.exec("BEGIN")
            try raw.exec(first.sql)
            try raw.exec("""
                CREATE TABLE schema_migrations (
                    version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);
                INSERT INTO schema_migrations VALUES (1, 'sessions and cookies', 0);
                INSERT INTO sessions VALUES (x'\(String(repeating: "ab", count: 32))', 1000, 1000, 2000, 'o', NULL, NULL);
                PRAGMA application_id = \(SQLiteMigrations.applicationID);
                COMMIT;
                """)
        }
        let store = try SQLiteSessionStore(path: path)
        let kept = try await store.load(TokenHash(bytes: [UInt8](repeating: 0xab, count: 32))!, now: 1_500)
        #expect(kept?.identity?.openID == "o")
        try await store.setSharedValue("k", [1], expiresAt: 3)
        #expect(try await store.sharedValue("k")?.value == [1])
        try await store.shutdown()
        let raw = try RawSQLite(path: path)
        #expect(try raw.column("SELECT group_concat(version) FROM schema_migrations ORDER BY version") == ["1,2"])
        #expect(SQLiteMigrations.latestVersion == 2)
    }
}
