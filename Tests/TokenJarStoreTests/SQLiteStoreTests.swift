import Dispatch
import Foundation
import NIOCore
import Testing

@testable import TokenJarStore

@Suite("SQLite store")
struct SQLiteStoreTests {
    let directory: URL
    var path: String { directory.appendingPathComponent("data/sessions.db").path }

    init() throws { directory = try makeTemporaryDirectory() }

    /// Swift Testing makes a new instance per test; the directory goes with the process's
    /// temporary files if a test fails before removing it.
    private func cleanup() { removeTemporaryDirectory(directory) }

    @Test("data survives closing and reopening the file; migrations are idempotent")
    func reopen() async throws {
        defer { cleanup() }
        let identity = SessionIdentity(openID: "o", unionID: nil, sealedSessionKey: [0, 1, 2])
        let record = session(hash(1), identity: identity, cookies: [cookie("a"), cookie("", "empty name", path: "/p")])
        var store = try SQLiteSessionStore(path: path)
        try await store.create(record)
        try await store.shutdown()

        for _ in 0..<2 {
            store = try SQLiteSessionStore(path: path)
            let loaded = try await store.load(hash(1), now: 1_000)
            #expect(loaded?.identity == identity)
            #expect(Set(loaded?.cookies ?? []) == Set(record.cookies))
            try await store.shutdown()
        }
        let raw = try RawSQLite(path: path)
        let latest = "\(SQLiteMigrations.latestVersion)"
        #expect(try raw.column("SELECT count(*) FROM schema_migrations") == [latest])
        #expect(try raw.column("SELECT max(version) FROM schema_migrations") == [latest])
    }

    @Test("a file is served by one store at a time")
    func exclusiveOpen() async throws {
        defer { cleanup() }
        let first = try SQLiteSessionStore(path: path)
        #expect(throws: StoreError.unavailable) { try SQLiteSessionStore(path: path) }
        try await first.shutdown()
        let second = try SQLiteSessionStore(path: path)
        try await second.ping()
        try await second.shutdown()
    }

    @Test("the database is in WAL mode with foreign keys enforced")
    func walMode() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path, options: SQLiteStoreOptions(synchronous: .normal))
        try await store.create(session(hash(1), cookies: [cookie("a")]))
        let raw = try RawSQLite(path: path)
        #expect(try raw.column("PRAGMA journal_mode") == ["wal"])
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        // The cascade from sessions to cookies is in the schema.
        #expect(try raw.column("SELECT \"table\" || ':' || on_delete FROM pragma_foreign_key_list('cookies')") == ["sessions:CASCADE"])
        try await store.shutdown()
    }

    @Test("a committed write is in the file before shutdown, seen by an independent connection")
    func committedWriteReachedTheFile() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(5)
        try await store.create(session(h))
        try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("sid", "s3cr3t"))]))
        // No shutdown, no checkpoint: the write is durable because its future succeeded.
        let raw = try RawSQLite(path: path)
        #expect(try raw.column("SELECT name FROM cookies WHERE token_hash = ?", blob: h.bytes) == ["sid"])
        #expect(try raw.column("SELECT CAST(payload AS TEXT) FROM cookies WHERE token_hash = ?", blob: h.bytes) == ["sid=s3cr3t"])
        try await store.shutdown()
    }

    @Test("group commit: 200 writes queued behind a commit share one transaction")
    func groupCommitBatches() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(1)
        try await store.create(session(h))
        let before = store.writerStatistics

        // Hold the writer thread inside a transaction while 200 writes arrive from event loops.
        let gate = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        store.writer.submit({ _ in holding.signal(); gate.wait() }, completion: { _ in })
        await withCheckedContinuation { done in DispatchQueue.global().async { holding.wait(); done.resume() } }
        let submitted = (0..<200).map { i -> EventLoopFuture<EventLoopFuture<Void>> in
            let loop = testLoops.next()
            return loop.submit {
                store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("c\(i)"))]), on: loop)
            }
        }
        var writes: [EventLoopFuture<Void>] = []
        for s in submitted { writes.append(try await s.get()) }
        #expect(store.writer.queued == 200)
        gate.signal()
        for w in writes { try await w.get() }

        let after = store.writerStatistics
        // One transaction for the held job, one for the 200 writes.
        #expect(after.transactions - before.transactions == 2)
        #expect(after.jobs - before.jobs == 201)
        #expect(after.largestBatch == 200)
        #expect(try await store.stats().cookies == 200)
        try await store.shutdown()
    }

    @Test("a failing write in a batch is rolled back alone; the others commit")
    func failureIsolatedInBatch() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(1)
        try await store.create(session(h))
        // The held job is alone in its batch (the writer is inside it before the others are
        // queued), so it never runs twice when the next batch is rerun.
        let gate = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        store.writer.submit({ _ in holding.signal(); gate.wait() }, completion: { _ in })
        await withCheckedContinuation { done in DispatchQueue.global().async { holding.wait(); done.resume() } }
        let loop = testLoops.next()
        let good1 = store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a"))]), on: loop)
        let unknown = store.write(SessionWrite(tokenHash: hash(2), changes: [.upsert(cookie("x"))]), on: loop)
        // A job that creates a session with a cookie and then fails: nothing of it may remain.
        let partial = loop.makePromise(of: Void.self)
        store.writer.submit({ context in
            try context.apply(SessionWrite(tokenHash: hash(3), create: session(hash(3), cookies: [cookie("y")])))
            throw StoreError.failed
        }, completion: { partial.completeWith($0) })
        let good2 = store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b"))]), on: loop)
        gate.signal()
        try await good1.get()
        await #expect(throws: StoreError.sessionNotFound) { try await unknown.get() }
        await #expect(throws: StoreError.failed) { try await partial.futureResult.get() }
        try await good2.get()
        #expect(try await store.load(h, now: 1_000)?.cookies.map(\.name) == ["a", "b"])
        #expect(try await store.stats() == StoreStats(sessions: 1, loggedIn: 0, cookies: 2))
        try await store.shutdown()
    }

    @Test("sweep works in small batches")
    func sweepInBatches() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path, options: SQLiteStoreOptions(sweepBatch: 3))
        for n in 0..<20 {
            try await store.create(session(hash(n), lifetime: n < 10 ? 100 : 10_000,
                                           cookies: [cookie("a", expiresAt: 1_050), cookie("b")]))
        }
        let before = store.writerStatistics.transactions
        #expect(try await store.sweep(now: 1_200) == 10)
        #expect(try await store.stats() == StoreStats(sessions: 10, loggedIn: 0, cookies: 10))
        // 4 steps for the sessions (3+3+3+1) and 4 for the expired cookies (3+3+3+1).
        #expect(store.writerStatistics.transactions - before == 8)
        try await store.shutdown()
    }

    @Test("a database of a newer schema is refused")
    func schemaTooNew() async throws {
        defer { cleanup() }
        try await SQLiteSessionStore(path: path).shutdown()
        try RawSQLite(path: path).exec("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
        #expect(throws: StoreError.schemaTooNew) { try SQLiteSessionStore(path: path) }
        do {
            _ = try SQLiteSessionStore(path: path)
        } catch {
            #expect("\(error)".contains("version 999"))
        }
    }

    @Test("files that are not session stores are refused")
    func foreignFiles() async throws {
        defer { cleanup() }
        let other = directory.appendingPathComponent("other.db").path
        try RawSQLite(path: other).exec("CREATE TABLE things (x)")
        #expect(throws: StoreError.incompatible) { try SQLiteSessionStore(path: other) }
        #expect(try RawSQLite(path: other).column("SELECT count(*) FROM sqlite_schema") == ["1"])
        // Another application's schema_migrations table does not make it a session store.
        let rails = directory.appendingPathComponent("rails.db").path
        try RawSQLite(path: rails).exec("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)")
        #expect(throws: StoreError.incompatible) { try SQLiteSessionStore(path: rails) }

        let text = directory.appendingPathComponent("notes.db").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: text))
        #expect(throws: StoreError.corrupt) { try SQLiteSessionStore(path: text) }
    }

    @Test("errors carry no token hashes or payloads")
    func errorsAreSafeToLog() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(42, fill: 0x5a)
        do {
            try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("sid", "topsecret"))]))
            Issue.record("write to an unknown session succeeded")
        } catch {
            let text = "\(error)"
            #expect(text == "session not found")
            #expect(!text.contains(h.shortHex) && !text.contains("topsecret"))
        }
        try await store.shutdown()
    }
}
