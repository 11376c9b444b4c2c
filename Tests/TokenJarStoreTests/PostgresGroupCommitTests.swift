import NIOConcurrencyHelpers
import NIOCore
import Testing
import TokenJarStore
import TokenJarTestSupport

@testable import TokenJarPostgres

@Suite("PostgreSQL group commit", .enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresGroupCommitTests {
    @Test("the batch statement merges a cookie set twice (last write wins) and binds eight arrays")
    func statementShape() {
        let (a, b) = (hash(1), hash(2))
        let statement = PostgresBatchStatement([
            (b, [cookie("x", "1")]), (a, [cookie("y", "1"), cookie("z", "1")]), (b, [cookie("x", "2")]),
        ])
        #expect(statement.rows == 3)
        #expect(statement.query.binds.count == 8)
        #expect(statement.query.sql.contains("ORDER BY token_hash FOR KEY SHARE"))
    }

    @Test("many concurrent writes from several event loops all commit, in fewer commits than writes")
    func manyWritesLand() async throws {
        try await withDatabase { server, database in
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let tokens = (0..<20).map { hash($0) }
            for token in tokens { try await store.create(session(token)) }
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
            #expect(stats.writes == 400)
            #expect(stats.commits < 400)
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

    @Test("two instances writing different cookies of one token concurrently keep them all")
    func twoInstancesKeepAll() async throws {
        try await withDatabase { server, database in
            let a = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let b = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            let tokens = [hash(1), hash(2), hash(3)]
            for token in tokens { try await a.create(session(token)) }
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
            #expect(a.batchStatistics.writes + b.batchStatistics.writes == 300)
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
