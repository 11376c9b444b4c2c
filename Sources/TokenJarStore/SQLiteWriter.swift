import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Counters of the SQLite writer, for metrics and tests.
public struct SQLiteWriterStatistics: Hashable, Sendable {
    /// Transactions committed.
    public var transactions: Int = 0
    /// Jobs (writes, deletes, sweeps, ...) that were part of a committed transaction.
    public var jobs: Int = 0
    /// The most jobs one transaction carried.
    public var largestBatch: Int = 0
    /// Transactions that failed to begin or commit (all their jobs failed).
    public var failedTransactions: Int = 0
    /// Batches in which a job failed: the transaction was rolled back and the batch run again
    /// with a savepoint per job, so that only the failing jobs failed.
    public var rerunBatches: Int = 0
}

/// A job of the writer thread: runs inside the open transaction, then learns whether that
/// transaction committed. A job may run more than once (see `SQLiteWriter`): its body must
/// only touch the database and return what it computed there.
private protocol WriterJob: Sendable {
    /// Runs the body directly in the transaction; an error leaves the transaction to be
    /// rolled back as a whole.
    func run(_ context: SQLiteWriteContext) throws
    /// Runs the body in its own savepoint; only errors that spoil the transaction are thrown.
    func runIsolated(_ context: SQLiteWriteContext) throws
    func finish(transactionError: Error?)
}

/// A typed job. Its result is kept between `run` and `finish`, both called on the writer thread.
private final class TypedWriterJob<R: Sendable>: WriterJob, @unchecked Sendable {
    private let body: @Sendable (SQLiteWriteContext) throws -> R
    private let completion: @Sendable (Result<R, Error>) -> Void
    private var result: Result<R, Error>?

    init(body: @escaping @Sendable (SQLiteWriteContext) throws -> R,
         completion: @escaping @Sendable (Result<R, Error>) -> Void) {
        self.body = body
        self.completion = completion
    }

    func run(_ context: SQLiteWriteContext) throws {
        result = .success(try body(context))
    }

    func runIsolated(_ context: SQLiteWriteContext) throws {
        result = try context.inSavepoint { try body(context) }
    }

    func finish(transactionError: Error?) {
        if let transactionError {
            completion(.failure(transactionError))
        } else {
            completion(result ?? .failure(StoreError.failed))
        }
    }
}

/// The job of a write that returns nothing and completes a promise: the data plane's writes.
/// Not generic, so running and completing it looks up no type metadata at run time (a
/// `TypedWriterJob` runs as unspecialized generic code behind the `WriterJob` protocol).
private final class PromiseWriterJob: WriterJob, @unchecked Sendable {
    private let body: @Sendable (SQLiteWriteContext) throws -> Void
    private let promise: EventLoopPromise<Void>
    private var error: Error?
    private var ran = false

    init(body: @escaping @Sendable (SQLiteWriteContext) throws -> Void, promise: EventLoopPromise<Void>) {
        self.body = body
        self.promise = promise
    }

    func run(_ context: SQLiteWriteContext) throws {
        try body(context)
        ran = true
        error = nil
    }

    func runIsolated(_ context: SQLiteWriteContext) throws {
        switch try context.inSavepoint({ try body(context) }) {
        case .success: error = nil
        case .failure(let failure): error = failure
        }
        ran = true
    }

    func finish(transactionError: Error?) {
        if let failure = transactionError ?? error {
            promise.fail(failure)
        } else if ran {
            promise.succeed(())
        } else {
            promise.fail(StoreError.failed)
        }
    }
}

/// The single writer of the SQLite store: a dedicated thread with its own connection.
///
/// Group commit: the thread takes everything queued (up to `maxBatch` jobs), runs them one
/// after another inside ONE transaction, commits once, and only then completes the jobs'
/// promises. While a commit (and its fsync) is in progress new jobs queue up, and the next
/// transaction carries them all, so one fsync serves many responses.
///
/// The jobs run without savepoints, which cost a SAVEPOINT and a RELEASE statement around each
/// job. When a job throws, the whole transaction is rolled back and the batch runs again
/// from the start, this time with a savepoint per job, so the failing job fails alone and the
/// others commit (the rare path). Job bodies therefore only change the database and return
/// what they read from it: running one twice, the first run rolled back, has the effect of
/// running it once.
final class SQLiteWriter: SQLiteJobSubmitting {
    private let queue = WorkQueue<any WriterJob>()
    private let exit = ThreadExit(count: 1)
    private let counters = NIOLockedValueBox(SQLiteWriterStatistics())

    /// Takes over `context` (its connection migrated and configured) and starts the writer thread.
    init(context: SQLiteWriteContext, options: SQLiteStoreOptions, logger: Logger) {
        let handover = Handover(value: context)
        let (queue, exit, counters) = (self.queue, self.exit, self.counters)
        startThread(name: "tokenjar-sqlite-writer") {
            Self.run(
                context: handover.value, queue: queue, counters: counters, options: options, logger: logger)
            exit.threadDidExit()
        }
    }

    var statistics: SQLiteWriterStatistics { counters.withLockedValue { $0 } }

    /// Jobs waiting for the writer thread.
    var queued: Int { queue.count }

    /// Queues a job; `completion` is called on the writer thread once the job's transaction
    /// has committed (or failed), or at once with `StoreError.closed` after shutdown.
    func submit<R: Sendable>(
        _ body: @escaping @Sendable (SQLiteWriteContext) throws -> R,
        completion: @escaping @Sendable (Result<R, Error>) -> Void
    ) {
        if !queue.push(TypedWriterJob(body: body, completion: completion)) {
            completion(.failure(StoreError.closed))
        }
    }

    /// Queues a job from an event loop; the future completes on that loop once the job's
    /// transaction has committed. Called on the loop itself, the writer thread is woken once at
    /// the end of the loop's tick rather than for each job, so the writes of one tick commit
    /// together (one `fsync`, one thread switch) and the loop is not interrupted mid-tick.
    func submitGrouped<R: Sendable>(
        on eventLoop: any EventLoop, _ body: @escaping @Sendable (SQLiteWriteContext) throws -> R
    ) -> EventLoopFuture<R> {
        let promise = eventLoop.makePromise(of: R.self)
        let job = TypedWriterJob(body: body) { promise.completeWith($0) }
        if !queue.push(job, groupedOn: eventLoop) { promise.fail(StoreError.closed) }
        return promise.futureResult
    }

    /// `submitGrouped` for a write that returns nothing, with a job that is not generic.
    func submitGrouped(
        on eventLoop: any EventLoop, _ body: @escaping @Sendable (SQLiteWriteContext) throws -> Void
    ) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        if !queue.push(PromiseWriterJob(body: body, promise: promise), groupedOn: eventLoop) {
            promise.fail(StoreError.closed)
        }
        return promise.futureResult
    }

    /// Refuses new jobs, lets the thread finish the queued ones and close its connection.
    func shutdown() async {
        queue.close()
        await exit.wait()
    }

    /// A store dropped without shutdown still lets its thread commit what was queued and stop.
    deinit { queue.close() }

    private static func run(
        context: SQLiteWriteContext, queue: WorkQueue<any WriterJob>,
        counters: NIOLockedValueBox<SQLiteWriterStatistics>, options: SQLiteStoreOptions, logger: Logger
    ) {
        let maxBatch = max(1, options.maxBatch)
        while true {
            let batch = queue.pop(max: maxBatch)
            if batch.isEmpty { break }
            var transactionError: Error?
            var rerun = false
            do {
                rerun = try !runDirectly(batch, context)
                if rerun { try runIsolated(batch, context) }
            } catch {
                transactionError = error
                context.rollback()
                logger.error(
                    "session store transaction failed",
                    metadata: ["jobs": "\(batch.count)", "error": "\(error)"])
            }
            counters.withLockedValue { c in
                if rerun { c.rerunBatches += 1 }
                if transactionError == nil {
                    c.transactions += 1
                    c.jobs += batch.count
                    c.largestBatch = max(c.largestBatch, batch.count)
                } else {
                    c.failedTransactions += 1
                }
            }
            for job in batch { job.finish(transactionError: transactionError) }
        }
        if options.checkpointOnShutdown {
            do {
                try context.db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
            } catch {
                logger.warning("session store checkpoint at shutdown failed", metadata: ["error": "\(error)"])
            }
        }
        context.db.close()
        logger.debug("session store writer stopped")
    }

    /// The common path: every job directly in one transaction, committed. False when a job
    /// threw: the transaction is rolled back and nothing of the batch remains. Errors of the
    /// transaction itself (begin, commit) are thrown.
    private static func runDirectly(_ batch: [any WriterJob], _ context: SQLiteWriteContext) throws -> Bool {
        try context.begin()
        do {
            for job in batch { try job.run(context) }
        } catch {
            context.rollback()
            return false
        }
        try context.commit()
        return true
    }

    /// The rare path: the batch again, each job in its own savepoint, committed.
    private static func runIsolated(_ batch: [any WriterJob], _ context: SQLiteWriteContext) throws {
        try context.begin()
        for job in batch { try job.runIsolated(context) }
        try context.commit()
    }
}
