import NIOCore
import PostgresNIO
import Testing
import TokenJarStore
import TokenJarTestSupport

@testable import TokenJarPostgres

@Suite("PostgreSQL data-plane lanes", .enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresLaneTests {
    @Test("loads and writes made on an event loop run on that loop's own connection and agree with the pool")
    func lanesCarryTheDataPlane() async throws {
        try await withOwnPostgres { server in
            let database = try await server.createDatabase()
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let h = hash(7)
            try await store.create(session(h, cookies: [cookie("a", "1")]))
            let loop = testLoops.next()

            // The first call on a loop starts its lane's connection and uses the pool meanwhile.
            let before = store.laneStatements
            try await onLaneEventually(store) {
                let loaded = try await loop.flatSubmit { store.load(h, now: 1_000, on: loop) }.get()
                #expect(loaded?.cookies == [cookie("a", "1")])
            }
            #expect(store.laneStatements > before)

            let lanesBeforeWrite = store.laneStatements
            try await loop.flatSubmit {
                store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b", "2"))]), on: loop)
            }.get()
            #expect(store.laneStatements == lanesBeforeWrite + 1, "the group commit ran on the lane")
            // Another connection (the pool's) sees the committed write at once.
            #expect(try await store.load(h, now: 1_000)?.cookies == [cookie("a", "1"), cookie("b", "2")])

            // A write of a session that is gone fails alone on the lane too.
            await #expect(throws: StoreError.sessionNotFound) {
                try await loop.flatSubmit {
                    store.write(SessionWrite(tokenHash: hash(8), changes: [.upsert(cookie("x"))]), on: loop)
                }.get()
            }
            // A write the server refuses (a NUL byte in a text value) fails alone there too: the
            // batch is retried one write at a time, and the lane stays open.
            let lanesBeforeBatch = store.laneStatements
            let writes = (0..<30).map { i in
                SessionWrite(tokenHash: h, changes: [.upsert(cookie(i == 10 ? "bad\u{0}" : "n\(i)"))])
            }
            let futures = try await loop.submit { writes.map { store.write($0, on: loop) } }.get()
            for (i, future) in futures.enumerated() {
                if i == 10 {
                    await #expect(throws: StoreError.failed) { try await future.get() }
                } else {
                    try await future.get()
                }
            }
            #expect(store.laneStatements > lanesBeforeBatch)
            #expect(store.batchStatistics.retriedOneByOne >= 1)
            let names = Set(try await store.load(h, now: 1_000)?.cookies.map(\.name) ?? [])
            #expect(names.isSuperset(of: (0..<30).filter { $0 != 10 }.map { "n\($0)" }))
            #expect(!names.contains("bad\u{0}"))
            try await store.shutdown()
        }
    }

    @Test("with no lanes every statement goes through the pool; with several, concurrent calls all land")
    func laneCount() async throws {
        try await withOwnPostgres { server in
            let database = try await server.createDatabase()
            for lanes in [0, 3] {
                var options = postgresOptions(server, database)
                options.lanesPerLoop = lanes
                let store = try await PostgresSessionStore.open(options, logger: quietLogger)
                let h = hash(20 + lanes)
                try await store.create(session(h, cookies: [cookie("a")]))
                let loop = testLoops.next()
                if lanes > 0 {
                    try await onLaneEventually(store) {
                        _ = try await loop.flatSubmit { store.load(h, now: 1_000, on: loop) }.get()
                    }
                }
                let writes = try await loop.submit {
                    (0..<40).map { i in store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("c\(i)"))]), on: loop) }
                }.get()
                let loads = try await loop.submit { (0..<40).map { _ in store.load(h, now: 1_000, on: loop) } }.get()
                for write in writes { try await write.get() }
                for load in loads { #expect(try await load.get()?.cookies.first == cookie("a")) }
                #expect(try await store.load(h, now: 1_000)?.cookies.count == 41)
                if lanes == 0 { #expect(store.laneStatements == 0) } else { #expect(store.laneStatements > 40) }
                try await store.shutdown()
            }
        }
    }

    @Test("a closed connection under a prepared statement is unavailable")
    func legacyErrorsMap() {
        // Server errors of prepared statements are covered above (SQLSTATE 22021 is `.failed`).
        #expect(PostgresErrors.storeError(PostgresError.connectionClosed) == .unavailable)
        #expect(PostgresErrors.storeError(PostgresError.protocol("x")) == .unavailable)
    }

    @Test("a lane whose connection the server ends reconnects by itself; calls meanwhile still answer")
    func laneReconnects() async throws {
        try await withOwnPostgres { server in
            let database = try await server.createDatabase()
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let h = hash(9)
            try await store.create(session(h, cookies: [cookie("a")]))
            let loop = testLoops.next()
            let load = { try await loop.flatSubmit { store.load(h, now: 1_000, on: loop) }.get() }
            try await onLaneEventually(store) { _ = try await load() }

            // End every connection of the store (the pool's and the lane's) from the server side.
            let ended = try await server.psql("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = '\(database)' AND pid <> pg_backend_pid()
                """)
            // At least the pool's standing connection and the lane's.
            #expect(ended.split(separator: "\n").filter { $0 == "t" }.count >= 2)
            var failures = 0
            let start = ContinuousClock.now
            var backOnLane = false
            while !backOnLane, ContinuousClock.now - start < .seconds(30) {
                let lanes = store.laneStatements
                do {
                    let loaded = try await load()
                    #expect(loaded?.cookies == [cookie("a")])
                    backOnLane = store.laneStatements > lanes
                } catch {
                    failures += 1
                }
                if !backOnLane { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(backOnLane, "the lane did not reconnect within 30 s")
            // The pool notices its own closed connections; at most a call or two meet a dead one.
            #expect(failures <= 2)
            try await store.shutdown()
        }
    }
}

/// Repeats `body` until a statement ran on a lane (a lane connects in the background).
private func onLaneEventually(_ store: PostgresSessionStore, _ body: () async throws -> Void) async throws {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < .seconds(30) {
        let before = store.laneStatements
        try await body()
        if store.laneStatements > before { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("no statement ran on a lane within 30 s")
}
