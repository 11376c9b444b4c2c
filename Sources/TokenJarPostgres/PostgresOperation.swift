import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import TokenJarStore

/// How long one store operation may wait: first for a pooled connection, then in total.
struct OperationLimits: Sendable {
    /// Waiting for a connection. The pool queues a lease while it cannot connect (for up to a
    /// minute), so this is what makes a call fail fast while the database is down.
    var acquire: Duration
    /// The whole operation, connection included.
    var total: Duration
}

/// The phases of one operation, so that exactly one of "finished", "no connection in time" and
/// "took too long" completes its promise.
private final class OperationGate: Sendable {
    private enum Phase { case waiting, running, done }
    private let phase = NIOLockedValueBox(Phase.waiting)

    /// The connection is leased; false when a deadline has already failed the operation.
    func start() -> Bool {
        phase.withLockedValue {
            guard $0 == .waiting else { return false }
            $0 = .running
            return true
        }
    }

    /// Claims the right to complete the promise, from any phase but `done`.
    func finish() -> Bool {
        phase.withLockedValue {
            guard $0 != .done else { return false }
            $0 = .done
            return true
        }
    }

    /// Claims the right to complete the promise only while no connection was leased yet.
    func expireIfWaiting() -> Bool {
        phase.withLockedValue {
            guard $0 == .waiting else { return false }
            $0 = .done
            return true
        }
    }
}

/// Runs operations on pooled connections under deadlines and hands the results out as futures.
struct PostgresRunner: Sendable {
    let client: PostgresClient
    let group: any EventLoopGroup

    /// Runs `body` on a pooled connection and completes the future on `eventLoop`. Errors arrive
    /// as `StoreError`; a missed deadline is `.unavailable`. The body keeps its connection until
    /// it returns, even after a deadline failed the future (a running statement is then ended by
    /// the server's `statement_timeout`).
    func run<R: Sendable>(
        on eventLoop: any EventLoop, limits: OperationLimits,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> R
    ) -> EventLoopFuture<R> {
        let promise = eventLoop.makePromise(of: R.self)
        let gate = OperationGate()
        let client = self.client
        let task = Task {
            do {
                let value = try await client.withConnection { connection in
                    guard gate.start() else { throw CancellationError() }
                    return try await body(connection)
                }
                if gate.finish() { promise.succeed(value) }
            } catch {
                if gate.finish() { promise.fail(PostgresErrors.storeError(error)) }
            }
        }
        let acquireTimer = eventLoop.scheduleTask(in: TimeAmount(limits.acquire)) {
            guard gate.expireIfWaiting() else { return }
            promise.fail(StoreError.unavailable.with(
                detail: "no database connection within \(limits.acquire.wholeMilliseconds) ms"))
            task.cancel()
        }
        let totalTimer = eventLoop.scheduleTask(in: TimeAmount(limits.total)) {
            guard gate.finish() else { return }
            promise.fail(StoreError.unavailable.with(
                detail: "the database did not answer within \(limits.total.wholeMilliseconds) ms"))
            task.cancel()
        }
        promise.futureResult.whenComplete { _ in
            acquireTimer.cancel()
            totalTimer.cancel()
        }
        return promise.futureResult
    }

    /// `run` for async callers.
    func run<R: Sendable>(
        limits: OperationLimits, _ body: @escaping @Sendable (PostgresConnection) async throws -> R
    ) async throws -> R {
        try await run(on: group.any(), limits: limits, body).get()
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (its error
    /// is rethrown as is). A connection whose ROLLBACK fails is closed, so no transaction is left
    /// open on a pooled connection.
    func transaction<R: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> R
    ) async throws -> R {
        try await query("BEGIN", logger: logger)
        let value: R
        do {
            value = try await body(self)
        } catch {
            do {
                try await query("ROLLBACK", logger: logger)
            } catch {
                try? await close()
            }
            throw error
        }
        try await query("COMMIT", logger: logger)
        return value
    }

    /// Runs a statement and counts the rows it returns (`RETURNING 1` counts affected rows).
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var rows = 0
        for try await _ in try await self.query(query, logger: logger) { rows += 1 }
        return rows
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
