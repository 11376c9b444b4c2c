import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import TokenJarStore

/// Counters of the write batcher, for tests and metrics.
struct PostgresBatchStatistics: Hashable, Sendable {
    /// Statements (commits) the batcher ran, batches of one included.
    var commits = 0
    /// Writes those statements carried.
    var writes = 0
    /// The most writes one statement carried.
    var largestBatch = 0
    /// Batches whose statement failed as a whole and whose writes were retried one by one.
    var retriedOneByOne = 0
}

/// Group commit for the data plane's usual write (cookie upserts of a known session).
///
/// One batch runs at a time. Writes handed in while it runs queue up, and the next batch takes
/// them all (up to `maxBatch`) into ONE statement (`PostgresBatchStatement`), which is its own
/// transaction: one round trip and one commit serve every write of the batch, and each write's
/// future completes only after that commit. A batch of one runs the one-write statement.
/// When a batch statement fails as a whole (a constraint, a deadlock), its writes run again one
/// by one, so a failing write fails alone; a database that is away fails the whole batch.
final class PostgresWriteBatcher: Sendable {
    typealias Run = @Sendable (PostgresQuery) async throws -> Set<TokenHash>

    private struct Pending: Sendable {
        var tokenHash: TokenHash
        var cookies: [CookieRecord]
        var promise: EventLoopPromise<Void>
    }

    private struct State {
        var queue: [Pending] = []
        var running = false
        var statistics = PostgresBatchStatistics()
    }

    private let state = NIOLockedValueBox(State())
    private let maxBatch: Int
    /// Runs one statement on a pooled connection and returns the sessions it found.
    private let run: Run

    init(maxBatch: Int, run: @escaping Run) {
        self.maxBatch = max(1, maxBatch)
        self.run = run
    }

    var statistics: PostgresBatchStatistics { state.withLockedValue { $0.statistics } }

    /// Queues the upserts of one write (`cookies` from `PostgresSingleStatementWrite.upserts`);
    /// `promise` completes once they are committed, or fails alone.
    func submit(_ tokenHash: TokenHash, _ cookies: [CookieRecord], promise: EventLoopPromise<Void>) {
        let start = state.withLockedValue { state -> Bool in
            state.queue.append(Pending(tokenHash: tokenHash, cookies: cookies, promise: promise))
            guard !state.running else { return false }
            state.running = true
            return true
        }
        if start { Task { await self.drain() } }
    }

    private func drain() async {
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                let taken = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(taken.count)
                if taken.isEmpty { state.running = false }
                return taken
            }
            if batch.isEmpty { return }
            await commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) async {
        do {
            let found: Set<TokenHash>
            if batch.count == 1 {
                found = try await run(PostgresSingleStatementWrite.query(batch[0].tokenHash, batch[0].cookies))
            } else {
                found = try await run(PostgresBatchStatement(batch.map { ($0.tokenHash, $0.cookies) }).query)
            }
            record(batch.count)
            for write in batch {
                if found.contains(write.tokenHash) {
                    write.promise.succeed()
                } else {
                    write.promise.fail(StoreError.sessionNotFound)
                }
            }
        } catch {
            let storeError = PostgresErrors.storeError(error)
            guard batch.count > 1, storeError != .unavailable else {
                for write in batch { write.promise.fail(storeError) }
                return
            }
            state.withLockedValue { $0.statistics.retriedOneByOne += 1 }
            for write in batch { await commit([write]) }
        }
    }

    private func record(_ writes: Int) {
        state.withLockedValue {
            $0.statistics.commits += 1
            $0.statistics.writes += writes
            $0.statistics.largestBatch = max($0.statistics.largestBatch, writes)
        }
    }
}
