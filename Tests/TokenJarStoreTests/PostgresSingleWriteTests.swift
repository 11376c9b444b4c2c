import NIOCore
import PostgresNIO
import Testing
import TokenJarStore
import TokenJarTestSupport

@testable import TokenJarPostgres

@Suite("PostgreSQL one-statement writes")
struct PostgresSingleWriteTests {
    @Test("only upserts of a known session's distinct cookies take the one-statement path")
    func eligibility() {
        let h = hash(1)
        let upserts: [CookieChange] = [.upsert(cookie("b")), .upsert(cookie("a"))]
        #expect(PostgresSingleStatementWrite.query(for: SessionWrite(tokenHash: h, changes: upserts)) != nil)
        #expect(PostgresSingleStatementWrite.query(for: SessionWrite(tokenHash: h)) == nil)
        #expect(PostgresSingleStatementWrite.query(
            for: SessionWrite(tokenHash: h, touch: (lastSeenAt: 1, expiresAt: 2), changes: upserts)) == nil)
        #expect(PostgresSingleStatementWrite.query(
            for: SessionWrite(tokenHash: h, create: session(h), changes: upserts)) == nil)
        let delete = CookieChange.delete(CookieRecordKey(name: "c", domain: "example.com", path: "/"))
        #expect(PostgresSingleStatementWrite.query(for: SessionWrite(tokenHash: h, changes: upserts + [delete])) == nil)
        #expect(PostgresSingleStatementWrite.query(
            for: SessionWrite(tokenHash: h, changes: [.upsert(cookie("a", "1")), .upsert(cookie("a", "2"))])) == nil)
    }

    @Test("the statement binds the hash, then five values per cookie")
    func statementShape() throws {
        let write = SessionWrite(tokenHash: hash(2), changes: [.upsert(cookie("b")), .upsert(cookie("a"))])
        let query = try #require(PostgresSingleStatementWrite.query(for: write))
        #expect(query.binds.count == 11)
        #expect(query.sql.contains("$11::bytea") && !query.sql.contains("$12"))
        #expect(query.sql.contains("FOR KEY SHARE"))
    }

    @Test("concurrent one-statement writes from two instances keep every cookie; a gone session writes nothing",
          .enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipMessage)))
    func concurrentAndGone() async throws {
        let server = try await SharedPostgres.shared.acquire()
        do {
            try await concurrentAndGone(server, try await server.createDatabase())
            await SharedPostgres.shared.release()
        } catch {
            await SharedPostgres.shared.release()
            throw error
        }
    }

    private func concurrentAndGone(_ server: PostgresServer, _ database: String) async throws {
        let a = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
        let b = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
        let h = hash(9)
        try await a.create(session(h, cookies: [cookie("base")]))
        let writes = (0..<40).map { i -> EventLoopFuture<Void> in
            let loop = testLoops.next()
            let store = i.isMultiple(of: 2) ? a : b
            return loop.flatSubmit {
                store.write(SessionWrite(tokenHash: h, changes: [
                    .upsert(cookie("shared", "\(i)")), .upsert(cookie("c\(i)", "\(i)")),
                ]), on: loop)
            }
        }
        for write in writes { try await write.get() }
        for store in [a, b] {
            let loaded = try #require(try await store.load(h, now: 1_000))
            #expect(Set(loaded.cookies.map(\.name)) == Set(["base", "shared"] + (0..<40).map { "c\($0)" }))
        }
        try await b.delete(h, on: b.loop).get()
        await #expect(throws: StoreError.sessionNotFound) {
            try await a.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("late"))]))
        }
        #expect(try await a.stats() == StoreStats(sessions: 0, loggedIn: 0, cookies: 0))
        try await a.shutdown()
        try await b.shutdown()
    }
}
