import Foundation
import Logging
import NIOCore
import PostgresNIO
import Testing
import TokenJarStore
import TokenJarTestSupport

@testable import TokenJarPostgres

/// What only the shared PostgreSQL store has to show: several instances on one database,
/// migrations under a lock, one sweeper at a time, failing fast while the database is away.
/// (Everything the other stores do too is in the behavioural suite, which runs against it.)
@Suite("PostgreSQL store", .enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresStoreTests {
    /// Runs `body` with a fresh database on the shared test server.
    func withDatabase<T>(_ body: (PostgresServer, String) async throws -> T) async throws -> T {
        let server = try await SharedPostgres.shared.acquire()
        do {
            let result = try await body(server, try await server.createDatabase())
            await SharedPostgres.shared.release()
            return result
        } catch {
            await SharedPostgres.shared.release()
            throw error
        }
    }

    func open(_ server: PostgresServer, _ database: String, acquireTimeout: Duration = .seconds(5)) async throws
        -> PostgresSessionStore
    {
        try await PostgresSessionStore.open(
            postgresOptions(server, database, acquireTimeout: acquireTimeout), logger: quietLogger)
    }

    @Test("instances starting together migrate once, and reopening applies nothing")
    func concurrentMigration() async throws {
        try await withDatabase { server, database in
            let stores = try await withThrowingTaskGroup(of: PostgresSessionStore.self) { group in
                for _ in 0..<4 { group.addTask { try await open(server, database) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(stores.count == 4)
            let history = "SELECT count(*) || ':' || max(version) FROM tokenjar_schema_migrations"
            #expect(try await server.psql(history, database: database) == "\(PostgresMigrations.latestVersion):\(PostgresMigrations.latestVersion)")
            for store in stores { try await store.shutdown() }
            let again = try await open(server, database)
            try await again.shutdown()
            #expect(try await server.psql(history, database: database) == "\(PostgresMigrations.latestVersion):\(PostgresMigrations.latestVersion)")
        }
    }

    @Test("a schema newer than this build, or a foreign table, is refused")
    func refusesUnknownSchemas() async throws {
        try await withDatabase { server, database in
            try await open(server, database).shutdown()
            try await server.psql("INSERT INTO tokenjar_schema_migrations (version, description) VALUES (99, 'future')",
                                  database: database)
            await #expect(throws: StoreError.schemaTooNew) { try await open(server, database) }
        }
        try await withDatabase { server, database in
            try await server.psql("CREATE TABLE tokenjar_sessions (x integer)", database: database)
            await #expect(throws: StoreError.incompatible) { try await open(server, database) }
            #expect(try await server.psql("SELECT to_regclass('tokenjar_schema_migrations') IS NULL", database: database) == "t")
        }
    }

    @Test("two instances on one database: each sees the other's writes at once, and concurrent writes keep every cookie")
    func twoInstances() async throws {
        try await withDatabase { server, database in
            let (a, b) = (try await open(server, database), try await open(server, database))
            let h = hash(5)
            try await a.create(session(h, cookies: [cookie("base")]))
            for round in 0..<5 {
                let (writer, reader) = round.isMultiple(of: 2) ? (a, b) : (b, a)
                try await writer.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("turn", "\(round)"))]))
                #expect(try await reader.load(h, now: 1_000)?.cookies.first { $0.name == "turn" } == cookie("turn", "\(round)"))
            }
            let writes = (0..<40).map { i -> EventLoopFuture<Void> in
                let loop = testLoops.next()
                let store = i.isMultiple(of: 2) ? a : b
                return loop.flatSubmit {
                    store.write(SessionWrite(tokenHash: h, touch: (lastSeenAt: 1_000 + Int64(i), expiresAt: 2_000 + Int64(i)),
                                             changes: [.upsert(cookie("c\(i)", "\(i)"))]), on: loop)
                }
            }
            for write in writes { try await write.get() }
            for store in [a, b] {
                let loaded = try #require(try await store.load(h, now: 1_000))
                #expect(Set(loaded.cookies.map(\.name)) == Set(["base", "turn"] + (0..<40).map { "c\($0)" }))
                #expect(loaded.expiresAt == 2_039)
            }
            try await a.shutdown()
            try await b.shutdown()
        }
    }

    @Test("sweeps run on one instance at a time")
    func oneSweeperAtATime() async throws {
        try await withDatabase { server, database in
            let store = try await open(server, database)
            for n in 0..<3 { try await store.create(session(hash(n), at: 1_000, lifetime: 10)) }
            let holder = try await PostgresConnection.connect(
                configuration: .init(host: "127.0.0.1", port: server.port, username: PostgresServer.user,
                                     password: nil, database: database, tls: .disable),
                id: 1, logger: quietLogger)
            try await holder.query("SELECT pg_advisory_lock(\(PostgresMigrations.sweepLockKey))", logger: quietLogger)
            #expect(try await store.sweep(now: 5_000) == 0)
            #expect(try await store.stats().sessions == 3)
            try await holder.query("SELECT pg_advisory_unlock(\(PostgresMigrations.sweepLockKey))", logger: quietLogger)
            #expect(try await store.sweep(now: 5_000) == 3)
            #expect(try await store.stats().sessions == 0)
            try await holder.close()
            try await store.shutdown()
        }
    }

    @Test("while the database is down calls fail fast with unavailable; it reconnects by itself")
    func failsFastAndRecovers() async throws {
        try await withOwnPostgres { server in
            let database = try await server.createDatabase()
            let store = try await open(server, database, acquireTimeout: PostgresStoreOptions(user: "u", database: "d").acquireTimeout)
            let h = hash(1)
            try await store.create(session(h, cookies: [cookie("a")]))
            try await server.pause()

            var slowest = Duration.zero
            for attempt in 0..<6 {
                let start = ContinuousClock.now
                let write = SessionWrite(tokenHash: h, changes: [.upsert(cookie("down\(attempt)"))])
                await #expect(throws: StoreError.unavailable) {
                    if attempt.isMultiple(of: 2) { _ = try await store.load(h, now: 1_000) } else { try await store.apply(write) }
                }
                slowest = max(slowest, ContinuousClock.now - start)
            }
            // The acquire timeout is 500 ms; the slack is for a loaded machine. Without the
            // timeout a call would wait for the statement timeout or the database's return.
            #expect(slowest < .milliseconds(1_500), "slowest failure took \(slowest)")

            try await server.resume()
            let start = ContinuousClock.now
            var loaded: SessionRecord?
            while loaded == nil, ContinuousClock.now - start < .seconds(30) {
                loaded = try? await store.load(h, now: 1_000)
                if loaded == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(loaded?.cookies == [cookie("a")], "no recovery within 30 s")
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b"))]))
            #expect(try await store.load(h, now: 1_000)?.cookies.map(\.name) == ["a", "b"])
            print("PostgreSQL store: slowest failure while down \(slowest); back \(ContinuousClock.now - start) after restart")
            try await store.shutdown()
        }
    }

    @Test("opening fails with unavailable when nothing answers, naming no password")
    func openingWithoutServer() async throws {
        let port = try await External.freePort()
        var options = PostgresStoreOptions(port: port, user: "tokenjar", password: "hunter2", database: "x", tls: .disable)
        options.startupTimeout = .seconds(1)
        let start = ContinuousClock.now
        do {
            _ = try await PostgresSessionStore.open(options, logger: quietLogger)
            Issue.record("opened a store without a server")
        } catch let error as StoreError {
            #expect(error == .unavailable)
            #expect(!"\(error)".contains("hunter2"))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("SQLSTATEs map to store errors; details carry no row values")
    func errorMapping() {
        #expect(PostgresErrors.storeError(sqlState: "23503", message: nil) == .sessionNotFound)
        #expect(PostgresErrors.storeError(sqlState: "23505", message: "m") == .sessionExists)
        #expect(PostgresErrors.storeError(sqlState: "57P01", message: "terminating connection") == .unavailable)
        #expect(PostgresErrors.storeError(sqlState: "57014", message: nil) == .unavailable)
        #expect(PostgresErrors.storeError(sqlState: "08006", message: nil) == .unavailable)
        #expect(PostgresErrors.storeError(sqlState: "40P01", message: nil) == .unavailable)
        #expect(PostgresErrors.storeError(sqlState: "42P01", message: "relation does not exist") == .failed)
        let check = PostgresErrors.storeError(sqlState: "23514", message: "row (secret) violates")
        #expect(check == .failed && !"\(check)".contains("secret"))
    }

    @Test("cookie changes are locked in key order, keeping each cookie's own order")
    func lockOrder() {
        let a1 = CookieChange.upsert(cookie("a", "1"))
        let aDelete = CookieChange.delete(CookieRecordKey(name: "a", domain: "example.com", path: "/"))
        let b = CookieChange.upsert(cookie("b"))
        let z = CookieChange.upsert(cookie("Z"))
        #expect(PostgresWrites.lockOrder([b, a1, aDelete, z]) == [z, a1, aDelete, b])
        #expect(PostgresWrites.lockOrder([b, aDelete, a1]) == [aDelete, a1, b])
    }

    @Test("sealed: cookie values and session keys in the table are ciphertext")
    func sealedAtRest() async throws {
        try await withDatabase { server, database in
            let store = SealingSessionStore(wrapping: try await open(server, database), keyring: .ephemeral())
            let h = hash(9)
            let identity = SessionIdentity(openID: "o-9", sealedSessionKey: Array("wx-session-key".utf8))
            try await store.create(session(h, identity: identity, cookies: [cookie("SID", "plain-cookie-value")]))
            #expect(try await store.load(h, now: 1_000)?.cookies == [cookie("SID", "plain-cookie-value")])
            #expect(try await store.load(h, now: 1_000)?.identity == identity)
            let leaks = """
                SELECT (SELECT count(*) FROM tokenjar_cookies WHERE position(convert_to('plain-cookie-value', 'UTF8') IN payload) > 0)
                    || ':' || (SELECT count(*) FROM tokenjar_sessions WHERE position(convert_to('wx-session-key', 'UTF8') IN session_key) > 0)
                    || ':' || (SELECT count(*) FROM tokenjar_cookies WHERE get_byte(payload, 0) = 229)
                """
            #expect(try await server.psql(leaks, database: database) == "0:0:1")
            try await store.shutdown()
        }
    }
}
