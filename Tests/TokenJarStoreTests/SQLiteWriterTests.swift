import Dispatch
import Foundation
import NIOCore
import Testing

@testable import TokenJarStore

/// The writer's group commit: jobs run without savepoints, and a batch with a failing job is
/// rolled back and run again with a savepoint per job.
@Suite("SQLite writer")
struct SQLiteWriterTests {
    let directory: URL
    var path: String { directory.appendingPathComponent("data/sessions.db").path }

    init() throws { directory = try makeTemporaryDirectory() }

    private func cleanup() { removeTemporaryDirectory(directory) }

    /// Holds the writer thread inside a job of its own until the returned semaphore is
    /// signalled, so everything submitted meanwhile lands in the next batch together.
    private func holdWriter(_ store: SQLiteSessionStore) async -> DispatchSemaphore {
        let gate = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        store.writer.submit({ _ in holding.signal(); gate.wait() }, completion: { _ in })
        await withCheckedContinuation { done in DispatchQueue.global().async { holding.wait(); done.resume() } }
        return gate
    }

    @Test("a batch with a failing job commits the others, fails only that job and counts one rerun")
    func failingJobIsRerunAlone() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(1)
        try await store.create(session(h, cookies: [cookie("old")]))
        // Anonymous sessions for the eviction job, last seen before 1_000.
        for n in 10..<13 { try await store.create(session(hash(n), at: 500 + Int64(n))) }
        let before = store.writerStatistics

        let gate = await holdWriter(store)
        let loop = testLoops.next()
        let good1 = store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("a"))]), on: loop)
        let evicted = loop.makePromise(of: [TokenHash].self)
        store.writer.submit({ try $0.evictIdleAnonymous(limit: 2, lastSeenBefore: 1_000) },
                            completion: { evicted.completeWith($0) })
        let unknown = store.write(SessionWrite(tokenHash: hash(2), changes: [.upsert(cookie("x"))]), on: loop)
        let good2 = store.write(
            SessionWrite(tokenHash: h, changes: [.delete(CookieRecordKey(name: "old", domain: "example.com", path: "/")),
                                                 .upsert(cookie("b"))]),
            on: loop)
        #expect(store.writer.queued == 4)
        gate.signal()

        try await good1.get()
        await #expect(throws: StoreError.sessionNotFound) { try await unknown.get() }
        try await good2.get()
        // The eviction ran twice (the first run rolled back); its result is the second run's.
        #expect(try await evicted.futureResult.get() == [hash(10), hash(11)])

        #expect(try await store.load(h, now: 1_000)?.cookies.map(\.name) == ["a", "b"])
        #expect(try await store.load(hash(2), now: 1_000) == nil)
        #expect(try await store.stats() == StoreStats(sessions: 2, loggedIn: 0, cookies: 2))
        let after = store.writerStatistics
        // The held job's transaction and the batch's one; the batch was run twice.
        #expect(after.transactions - before.transactions == 2)
        #expect(after.jobs - before.jobs == 5)
        #expect(after.rerunBatches - before.rerunBatches == 1)
        #expect(after.failedTransactions == before.failedTransactions)
        #expect(after.largestBatch == 4)
        try await store.shutdown()
    }

    @Test("batches without a failing job are not rerun")
    func noRerunWithoutFailure() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(1)
        try await store.create(session(h))
        let gate = await holdWriter(store)
        let loop = testLoops.next()
        let writes = (0..<20).map { i in
            store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("c\(i)"))]), on: loop)
        }
        gate.signal()
        for write in writes { try await write.get() }
        #expect(store.writerStatistics.rerunBatches == 0)
        #expect(store.writerStatistics.largestBatch == 20)
        #expect(try await store.stats().cookies == 20)
        try await store.shutdown()
    }

    @Test("a write to an unknown session fails with sessionNotFound and changes nothing, whatever it carries")
    func unknownSessionWrites() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let known = hash(1)
        try await store.create(session(known, cookies: [cookie("keep")]))
        let missing = hash(2)
        let key = CookieRecordKey(name: "keep", domain: "example.com", path: "/")
        let writes: [SessionWrite] = [
            SessionWrite(tokenHash: missing, changes: [.upsert(cookie("a"))]),
            SessionWrite(tokenHash: missing, changes: [.delete(key)]),
            SessionWrite(tokenHash: missing, changes: [.delete(key), .upsert(cookie("a")), .upsert(cookie("b"))]),
            SessionWrite(tokenHash: missing, touch: (lastSeenAt: 1_100, expiresAt: 2_100)),
            SessionWrite(tokenHash: missing, touch: (lastSeenAt: 1_100, expiresAt: 2_100), changes: [.upsert(cookie("a"))]),
        ]
        for write in writes {
            await #expect(throws: StoreError.sessionNotFound) { try await store.apply(write) }
        }
        #expect(try await store.stats() == StoreStats(sessions: 1, loggedIn: 0, cookies: 1))

        // The same shapes succeed on the known session, in order.
        try await store.apply(SessionWrite(tokenHash: known, changes: [.delete(key), .upsert(cookie("a"))]))
        try await store.apply(SessionWrite(tokenHash: known, changes: [.delete(key)]))
        try await store.apply(SessionWrite(tokenHash: known, touch: (lastSeenAt: 1_100, expiresAt: 2_100)))
        let loaded = try #require(try await store.load(known, now: 1_100))
        #expect(loaded.cookies.map(\.name) == ["a"])
        #expect(loaded.lastSeenAt == 1_100 && loaded.expiresAt == 2_100)
        try await store.shutdown()
    }

    @Test("writes submitted during one event-loop tick commit in one transaction, woken once; reads of a tick all answer")
    func oneTickOneTransaction() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(1)
        try await store.create(session(h))
        let loop = testLoops.next()
        let before = store.writerStatistics
        // The writer sleeps; 30 writes queued from inside one task of the loop reach it together.
        let writes = try await loop.submit {
            (0..<30).map { i in
                store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("c\(i)"))]), on: loop)
            }
        }.get()
        for write in writes { try await write.get() }
        let after = store.writerStatistics
        #expect(after.transactions - before.transactions == 1)
        #expect(after.jobs - before.jobs == 30)
        #expect(try await store.stats().cookies == 30)

        // Ticks apart, each tick's writes commit once more; nothing waits for a later tick.
        for round in 0..<3 {
            let one = try await loop.submit {
                store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("r\(round)"))]), on: loop)
            }.get()
            try await one.get()
        }
        #expect(store.writerStatistics.transactions - after.transactions == 3)
        // Reads of one tick are woken together too, and each gets its answer.
        let loads = try await loop.submit {
            (0..<10).map { _ in store.load(h, now: 1_000, on: loop) }
        }.get()
        for load in loads { #expect(try await load.get()?.cookies.count == 33) }
        // Off the loop, a write wakes the writer itself.
        try await store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("off"))]), on: loop).get()
        #expect(try await store.stats().cookies == 34)
        try await store.shutdown()
    }

    @Test("jobs queued without a wake-up are still committed at shutdown")
    func deferredJobsAtShutdown() async throws {
        defer { cleanup() }
        let store = try SQLiteSessionStore(path: path)
        let h = hash(1)
        try await store.create(session(h))
        let loop = testLoops.next()
        // Shut down from inside the tick that queued the write, before the tick's wake-up runs.
        let write = try await loop.submit { () -> EventLoopFuture<Void> in
            let write = store.write(SessionWrite(tokenHash: h, changes: [.upsert(cookie("late"))]), on: loop)
            #expect(store.writer.queued == 1)
            return write
        }.get()
        try await store.shutdown()
        try await write.get()
        let reopened = try SQLiteSessionStore(path: path)
        #expect(try await reopened.load(h, now: 1_000)?.cookies.map(\.name) == ["late"])
        try await reopened.shutdown()
    }
}
