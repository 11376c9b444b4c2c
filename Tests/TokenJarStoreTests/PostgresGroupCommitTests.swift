import NIOConcurrencyHelpers
import NIOCore
import Testing
import TokenJarStore
import TokenJarTestSupport

@testable import TokenJarPostgres

@Suite("PostgreSQL group commit", .enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresGroupCommitTests {
    @Test("the batch statement merges a cookie set twice (last write wins); upserts bind eight arrays, session changes fifteen")
    func statementShape() {
        let (a, b) = (hash(1), hash(2))
        let statement = PostgresBatchStatement([
            (b, [cookie("x", "1")]), (a, [cookie("y", "1"), cookie("z", "1")]), (b, [cookie("x", "2")]),
        ])
        #expect(statement.rows == 3)
        #expect(!statement.hasSessionChanges)
        #expect(statement.query.binds.count == 8 && statement.query.sql == PostgresBatchStatement.upsertSQL)
        #expect(statement.preparedBinds.count == 8)
        var create = PostgresBatchStatement.Write(a, cookies: [cookie("y", "1")])
        create.create = (createdAt: 1, lastSeenAt: 1, expiresAt: 2)
        let withCreate = PostgresBatchStatement([create, PostgresBatchStatement.Write(b, cookies: [cookie("x", "1")])])
        #expect(withCreate.hasSessionChanges)
        #expect(withCreate.query.binds.count == 15 && withCreate.query.sql == PostgresBatchStatement.sql)
        #expect(withCreate.preparedBinds.count == 15)
        #expect(statement.query.sql.contains("ORDER BY token_hash FOR KEY SHARE"))
    }

    @Test("many concurrent writes from several event loops all commit, in fewer commits than writes")
    func manyWritesLand() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let tokens = (0..<20).map { hash($0) }
            for token in tokens { try await store.create(session(token)) }
            let before = store.batchStatistics
            let writes = (0..<400).map { i -> EventLoopFuture<Void> in
                let loop = testLoops.next()
                return loop.flatSubmit {
                    store.write(SessionWrite(tokenHash: tokens[i % 20], changes: [
                        .upsert(cookie("c\(i)", "\(i)")), .upsert(cookie("last", "\(i)")),
                    ]), on: loop)
                }
            }
            for write in writes { try await write.get() }
            for (t, token) in tokens.enumerated() {
                let loaded = try #require(try await store.load(token, now: 1_000))
                let expected = Set(stride(from: t, to: 400, by: 20).map { "c\($0)" } + ["last"])
                #expect(Set(loaded.cookies.map(\.name)) == expected)
            }
            let stats = store.batchStatistics
            #expect(stats.writes - before.writes == 400)
            #expect(stats.commits - before.commits < 400)
            #expect(stats.largestBatch > 1 && stats.largestBatch <= 256)
            try await store.shutdown()
        }
    }

    @Test("the writes of one event-loop tick go to an idle batcher as one statement")
    func oneTickOneStatement() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let tokens = (0..<10).map { hash($0) }
            for token in tokens { try await store.create(session(token)) }
            let before = store.batchStatistics
            let outcomes = try await submitTogether(store, (0..<40).map { i in
                SessionWrite(tokenHash: tokens[i % 10], changes: [.upsert(cookie("c\(i)"))])
            })
            #expect(outcomes.allSatisfy { $0 == .success })
            let after = store.batchStatistics
            #expect(after.commits - before.commits == 1)
            #expect(after.writes - before.writes == 40)
            #expect(try await store.stats().cookies == 40)
            try await store.shutdown()
        }
    }

    @Test("a write of a gone session fails alone; the rest of its batch commits")
    func goneSessionFailsAlone() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let (known, gone) = (hash(1), hash(2))
            try await store.create(session(known))
            let outcomes = try await submitTogether(store, (0..<60).map { i in
                SessionWrite(tokenHash: i == 30 ? gone : known, changes: [.upsert(cookie("c\(i)"))])
            })
            for (i, outcome) in outcomes.enumerated() {
                if i == 30 {
                    #expect(outcome == .failure(StoreError.sessionNotFound))
                } else {
                    #expect(outcome == .success)
                }
            }
            let loaded = try #require(try await store.load(known, now: 1_000))
            #expect(loaded.cookies.count == 59)
            #expect(try await store.load(gone, now: 1_000) == nil)
            #expect(store.batchStatistics.largestBatch > 1)
            try await store.shutdown()
        }
    }

    @Test("a write the database refuses fails alone: its batch is retried one write at a time")
    func refusedWriteFailsAlone() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let token = hash(1)
            try await store.create(session(token))
            // A NUL byte is not valid in a PostgreSQL text value: the server refuses the statement.
            let outcomes = try await submitTogether(store, (0..<60).map { i in
                SessionWrite(tokenHash: token, changes: [.upsert(cookie(i == 20 ? "bad\u{0}" : "c\(i)"))])
            })
            for (i, outcome) in outcomes.enumerated() {
                if i == 20 {
                    #expect(outcome != .success)
                } else {
                    #expect(outcome == .success)
                }
            }
            let loaded = try #require(try await store.load(token, now: 1_000))
            #expect(Set(loaded.cookies.map(\.name)) == Set((0..<60).filter { $0 != 20 }.map { "c\($0)" }))
            #expect(store.batchStatistics.retriedOneByOne >= 1)
            try await store.shutdown()
        }
    }

    @Test("new sessions, touches and cookie upserts of one tick share one statement")
    func createsAndTouchesShareAStatement() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let known = (0..<5).map { hash(100 + $0) }
            for token in known { try await store.create(session(token, at: 1_000, lifetime: 1_000)) }
            let fresh = (0..<20).map { hash($0) }
            let before = store.batchStatistics
            var writes: [SessionWrite] = []
            for (i, token) in fresh.enumerated() {
                // A new session with the cookies of its first response; some without any.
                writes.append(SessionWrite(
                    tokenHash: token, create: session(token, at: 2_000),
                    changes: i.isMultiple(of: 4) ? [] : [.upsert(cookie("sid", "\(i)")), .upsert(cookie("pref"))]))
            }
            for (i, token) in known.enumerated() {
                // Touches: one forward, one with a cookie, one that would move times back.
                writes.append(SessionWrite(tokenHash: token, touch: (lastSeenAt: 1_500, expiresAt: 2_500)))
                writes.append(SessionWrite(tokenHash: token, touch: (lastSeenAt: 1_400, expiresAt: 2_400),
                                           changes: [.upsert(cookie("t\(i)"))]))
                writes.append(SessionWrite(tokenHash: token, changes: [.upsert(cookie("u\(i)"))]))
            }
            let outcomes = try await submitTogether(store, writes)
            #expect(outcomes.allSatisfy { $0 == .success })
            let after = store.batchStatistics
            #expect(after.commits - before.commits == 1)
            #expect(after.writes - before.writes == writes.count)
            for (i, token) in fresh.enumerated() {
                let loaded = try #require(try await store.load(token, now: 2_000))
                #expect(loaded.createdAt == 2_000 && loaded.lastSeenAt == 2_000 && loaded.expiresAt == 3_000)
                #expect(loaded.identity == nil)
                let expected: Set<String> = i.isMultiple(of: 4) ? [] : ["sid", "pref"]
                #expect(Set(loaded.cookies.map(\.name)) == expected)
                if !i.isMultiple(of: 4) {
                    #expect(loaded.cookies.first { $0.name == "sid" }?.payload == Array("sid=\(i)".utf8))
                }
            }
            for (i, token) in known.enumerated() {
                let loaded = try #require(try await store.load(token, now: 1_500))
                #expect(loaded.createdAt == 1_000)
                #expect(loaded.lastSeenAt == 1_500 && loaded.expiresAt == 2_500, "the latest times, never back")
                #expect(Set(loaded.cookies.map(\.name)) == ["t\(i)", "u\(i)"])
            }
            try await store.shutdown()
        }
    }

    @Test("in a batch, creating an existing session leaves it as it is and writes the cookies")
    func createOfExistingSession() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let token = hash(1)
            try await store.create(session(token, at: 1_000, lifetime: 500))
            let outcomes = try await submitTogether(store, [
                SessionWrite(tokenHash: token, create: session(token, at: 3_000), changes: [.upsert(cookie("a"))]),
                SessionWrite(tokenHash: token, create: session(token, at: 4_000), changes: [.upsert(cookie("b"))]),
                SessionWrite(tokenHash: hash(2), changes: [.upsert(cookie("x"))]),
            ])
            #expect(outcomes == [.success, .success, .failure(StoreError.sessionNotFound)])
            let loaded = try #require(try await store.load(token, now: 1_000))
            #expect(loaded.createdAt == 1_000 && loaded.expiresAt == 1_500)
            #expect(Set(loaded.cookies.map(\.name)) == ["a", "b"])
            #expect(try await store.load(hash(2), now: 1_000) == nil)
            try await store.shutdown()
        }
    }

    @Test("a touch of a gone session fails alone and writes none of its cookies")
    func touchOfGoneSession() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let (known, gone) = (hash(1), hash(2))
            try await store.create(session(known))
            let outcomes = try await submitTogether(store, [
                SessionWrite(tokenHash: gone, touch: (lastSeenAt: 1_500, expiresAt: 2_500), changes: [.upsert(cookie("g"))]),
                SessionWrite(tokenHash: known, touch: (lastSeenAt: 1_500, expiresAt: 2_500), changes: [.upsert(cookie("k"))]),
            ])
            #expect(outcomes == [.failure(StoreError.sessionNotFound), .success])
            #expect(try await store.load(gone, now: 1_000) == nil)
            #expect(try await store.stats().cookies == 1)
            try await store.shutdown()
        }
    }

    @Test("a session created and touched in one batch: the writes run one by one, and both land")
    func createAndTouchOfOneSession() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let token = hash(1)
            let writes = [
                SessionWrite(tokenHash: token, create: session(token, at: 1_000), changes: [.upsert(cookie("a"))]),
                SessionWrite(tokenHash: token, touch: (lastSeenAt: 1_200, expiresAt: 2_200), changes: [.upsert(cookie("b"))]),
            ]
            #expect(!PostgresBatchStatement.canShare(writes.compactMap(PostgresBatchStatement.Write.init)))
            let before = store.batchStatistics
            let outcomes = try await submitTogether(store, writes)
            #expect(outcomes == [.success, .success])
            #expect(store.batchStatistics.commits - before.commits == 2)
            let loaded = try #require(try await store.load(token, now: 1_000))
            #expect(loaded.lastSeenAt == 1_200 && loaded.expiresAt == 2_200)
            #expect(Set(loaded.cookies.map(\.name)) == ["a", "b"])
            try await store.shutdown()
        }
    }

    @Test("writes the statement cannot take go the transactional path")
    func shapes() {
        let token = hash(1)
        let upsert = CookieChange.upsert(cookie("a"))
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token, changes: [upsert])) != nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token, create: session(token))) != nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token, touch: (1, 2))) != nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token)) == nil, "nothing to write")
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token, changes: [.delete(cookie("a").key)])) == nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token, changes: [upsert, upsert])) == nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(
            tokenHash: token, create: session(token), touch: (1, 2))) == nil, "create and touch")
        #expect(PostgresBatchStatement.Write(SessionWrite(
            tokenHash: token, create: session(token, identity: SessionIdentity(openID: "o", unionID: nil, sealedSessionKey: nil)))) == nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(
            tokenHash: token, create: session(token, cookies: [cookie("c")]))) == nil)
        #expect(PostgresBatchStatement.Write(SessionWrite(tokenHash: token, create: session(hash(2)))) == nil)
    }

    @Test("two instances writing different cookies of one token concurrently keep them all")
    func twoInstancesKeepAll() async throws {
        try await withDatabase { server, database in
            let a = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let b = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let tokens = [hash(1), hash(2), hash(3)]
            for token in tokens { try await a.create(session(token)) }
            let before = a.batchStatistics.writes
            let writes = (0..<300).map { i -> EventLoopFuture<Void> in
                let loop = testLoops.next()
                let store = i.isMultiple(of: 2) ? a : b
                // Each write names its cookies in a different order; batches sort them.
                let changes: [CookieChange] = [.upsert(cookie("w\(i)")), .upsert(cookie("shared", "\(i)"))]
                return loop.flatSubmit {
                    store.write(SessionWrite(tokenHash: tokens[i % 3],
                                             changes: i.isMultiple(of: 3) ? changes.reversed() : changes), on: loop)
                }
            }
            for write in writes { try await write.get() }
            for (t, token) in tokens.enumerated() {
                for store in [a, b] {
                    let loaded = try #require(try await store.load(token, now: 1_000))
                    let expected = Set(stride(from: t, to: 300, by: 3).map { "w\($0)" } + ["shared"])
                    #expect(Set(loaded.cookies.map(\.name)) == expected)
                }
            }
            #expect(a.batchStatistics.writes - before + b.batchStatistics.writes == 300)
            try await a.shutdown()
            try await b.shutdown()
        }
    }

    @Test("a write's future completes only once another connection sees its cookie")
    func visibleWhenComplete() async throws {
        try await withDatabase { server, database in
            let writer = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let reader = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let token = hash(7)
            try await writer.create(session(token))
            let checks = (0..<120).map { i -> EventLoopFuture<Bool> in
                let loop = testLoops.next()
                return loop.flatSubmit {
                    writer.write(SessionWrite(tokenHash: token, changes: [.upsert(cookie("v\(i)"))]), on: loop)
                        .flatMap { reader.load(token, now: 1_000, on: loop) }
                        .map { record in record?.cookies.contains { $0.name == "v\(i)" } ?? false }
                }
            }
            for check in checks { #expect(try await check.get()) }
            #expect(writer.batchStatistics.largestBatch > 1)
            try await writer.shutdown()
            try await reader.shutdown()
        }
    }
}

private enum Outcome: Equatable {
    case success
    case failure(StoreError)
}

/// Hands every write in from one event loop in one go (so they queue behind each other) and
/// collects how each ended, in order.
private func submitTogether(_ store: PostgresSessionStore, _ writes: [SessionWrite]) async throws -> [Outcome] {
    let loop = testLoops.next()
    let futures = try await loop.submit { writes.map { store.write($0, on: loop) } }.get()
    var outcomes: [Outcome] = []
    for future in futures {
        do {
            try await future.get()
            outcomes.append(.success)
        } catch let error as StoreError {
            outcomes.append(.failure(error))
        }
    }
    return outcomes
}

private func withDatabase(_ body: (PostgresServer, String) async throws -> Void) async throws {
    let server = try await SharedPostgres.shared.acquire()
    do {
        try await body(server, try await server.createDatabase())
        await SharedPostgres.shared.release()
    } catch {
        await SharedPostgres.shared.release()
        throw error
    }
}
