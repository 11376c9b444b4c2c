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

/// Group commit for the data plane's writes: cookie upserts, and the creation or touch of an
/// anonymous session (`PostgresBatchStatement.Write`).
///
/// One batch runs at a time. An idle batcher starts at the end of the event-loop tick that handed
/// in its first write. Writes handed in while a batch runs queue up, and the next batch takes
/// them all (up to `maxBatch`) into ONE statement (`PostgresBatchStatement`), which is its own
/// transaction: one round trip and one commit serve every write of the batch, and each write's
/// future completes only after that commit. A batch of one runs the one-write statement.
/// When a batch statement fails as a whole (a constraint, a deadlock), its writes run again one
/// by one, so a failing write fails alone; a database that is away fails the whole batch. So
/// does a batch that creates and touches one session (`PostgresBatchStatement.canShare`).
final class PostgresWriteBatcher: Sendable {
    /// Commits `writes` in one statement on `loop` (a lane, or the pool) and returns the
    /// sessions it found.
    typealias Run = @Sendable (_ writes: [PostgresBatchStatement.Write], _ loop: any EventLoop)
        -> EventLoopFuture<Set<TokenHash>>

    private struct Pending: Sendable {
        var write: PostgresBatchStatement.Write
        var promise: EventLoopPromise<Void>
    }

    private struct State {
        var queue: [Pending] = []
        var running = false
        var statistics = PostgresBatchStatistics()
    }

    private let state = NIOLockedValueBox(State())
    private let maxBatch: Int
    private let run: Run

    init(maxBatch: Int, run: @escaping Run) {
        self.maxBatch = max(1, maxBatch)
        self.run = run
    }

    var statistics: PostgresBatchStatistics { state.withLockedValue { $0.statistics } }

    /// Queues one write; `promise` completes once it is committed, or fails alone.
    func submit(_ write: PostgresBatchStatement.Write, promise: EventLoopPromise<Void>) {
        let start = state.withLockedValue { state -> Bool in
            state.queue.append(Pending(write: write, promise: promise))
            guard !state.running else { return false }
            state.running = true
            return true
        }
        guard start else { return }
        // Handed in on its loop, the first write of an idle batcher starts the batch at the end
        // of the loop's tick (NIO runs `execute`d tasks after the tick's I/O events), so the
        // other writes of that tick join it instead of waiting for the next round trip.
        let loop = promise.futureResult.eventLoop
        if loop.inEventLoop {
            loop.execute { self.drain() }
        } else {
            drain()
        }
    }

    /// Takes the next batch and commits it on the event loop of its first write; repeats until
    /// the queue is empty.
    private func drain() {
        let batch = state.withLockedValue { state -> [Pending] in
            let taken = Array(state.queue.prefix(maxBatch))
            state.queue.removeFirst(taken.count)
            if taken.isEmpty { state.running = false }
            return taken
        }
        guard let first = batch.first else { return }
        let loop = first.promise.futureResult.eventLoop
        if loop.inEventLoop {
            commit(batch, on: loop).whenComplete { _ in self.drain() }
        } else {
            loop.execute { self.commit(batch, on: loop).whenComplete { _ in self.drain() } }
        }
    }

    /// Commits `batch` in one statement and completes its writes; never fails itself.
    private func commit(_ batch: [Pending], on loop: any EventLoop) -> EventLoopFuture<Void> {
        let writes = batch.map(\.write)
        guard PostgresBatchStatement.canShare(writes) else { return oneByOne(batch, on: loop) }
        return run(writes, loop).flatMap { found -> EventLoopFuture<Void> in
            self.record(batch.count)
            for write in batch {
                if found.contains(write.write.tokenHash) {
                    write.promise.succeed()
                } else {
                    write.promise.fail(StoreError.sessionNotFound)
                }
            }
            return loop.makeSucceededVoidFuture()
        }.flatMapError { error -> EventLoopFuture<Void> in
            let storeError = PostgresErrors.storeError(error)
            guard batch.count > 1, storeError != .unavailable else {
                for write in batch { write.promise.fail(storeError) }
                return loop.makeSucceededVoidFuture()
            }
            self.state.withLockedValue { $0.statistics.retriedOneByOne += 1 }
            return self.oneByOne(batch, on: loop)
        }
    }

    /// One write at a time, in order, so that a failing write fails alone.
    private func oneByOne(_ batch: [Pending], on loop: any EventLoop) -> EventLoopFuture<Void> {
        batch.reduce(loop.makeSucceededVoidFuture()) { previous, write in
            previous.flatMap { self.commit([write], on: loop) }
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
