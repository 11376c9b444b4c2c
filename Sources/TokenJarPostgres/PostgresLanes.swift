import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import PostgresNIO
import TokenJarStore

/// The data plane's own connections: a few per gateway event loop, opened on that loop and driven
/// through postgres-nio's EventLoopFuture interface. A jar load or a group commit on a lane costs
/// no task, no pool lease and no hop between threads: the statement is written and its answer
/// read on the loop that serves the request. postgres-nio runs one statement at a time per
/// connection, so each loop has `perLoop` lanes and a statement goes to the ready one with the
/// fewest statements in flight.
///
/// Statements the data plane runs on every request are prepared once per lane connection
/// (`prepared`), so the server parses and plans them once, not per request.
///
/// A lane that cannot take a statement (not connected yet, reconnecting, or called off its loop)
/// says so, and the caller runs the statement on the pool instead, under the pool's deadlines.
/// A lane whose connection fails or closes is dropped and reconnected in the background, at most
/// once per `retryInterval`, so a database that is away costs one connection attempt per lane
/// and second, not one per request.
final class PostgresLanes: Sendable {
    private let configuration: PostgresConnection.Configuration?
    private let prepared: [String]
    private let logger: Logger
    private let retryInterval: TimeAmount
    private let perLoop: Int
    private let lanes = NIOLockedValueBox<[ObjectIdentifier: [Lane]]>([:])
    private let closed = NIOLockedValueBox(false)
    private let counter = NIOLockedValueBox(0)

    /// `configuration` nil turns lanes off (every statement goes to the pool). `prepared` lists
    /// the SQL of the statements each lane prepares when it connects (see `execute`).
    init(configuration: PostgresConnection.Configuration?, prepared: [String] = [], perLoop: Int = 2,
         logger: Logger, retryInterval: TimeAmount = .seconds(1)) {
        self.configuration = configuration
        self.perLoop = max(1, perLoop)
        self.prepared = prepared
        self.logger = logger
        self.retryInterval = retryInterval
    }

    /// Runs the prepared statement `prepared[index]` with `binds` on a lane of `loop` and
    /// collects its rows, failing with `.unavailable` after `timeout`. Nil when no lane can take
    /// it now: the caller uses the pool. Must be called on `loop` to use its lanes.
    func execute(_ index: Int, _ binds: [PostgresData], on loop: any EventLoop, timeout: TimeAmount)
        -> EventLoopFuture<[PostgresRow]>?
    {
        guard configuration != nil, loop.inEventLoop,
              let rows = lane(for: loop)?.execute(index, binds, timeout: timeout) else { return nil }
        counter.withLockedValue { $0 += 1 }
        return rows
    }

    /// Statements the lanes have taken.
    var statements: Int { counter.withLockedValue { $0 } }

    /// Closes every lane's connection; later calls go to the pool (which is closed too).
    func shutdown() async {
        let all = lanes.withLockedValue { lanes -> [Lane] in
            closed.withLockedValue { $0 = true }
            defer { lanes = [:] }
            return lanes.values.flatMap { $0 }
        }
        for lane in all {
            try? await lane.loop.flatSubmit { lane.close() }.get()
        }
    }

    /// On `loop`: its ready lane with the fewest statements in flight, or nil while none is
    /// ready. Lanes not ready start connecting when it is time.
    private func lane(for loop: any EventLoop) -> Lane? {
        guard let configuration else { return nil }
        let key = ObjectIdentifier(loop)
        let group = lanes.withLockedValue { lanes -> [Lane] in
            if let group = lanes[key] { return group }
            guard !closed.withLockedValue({ $0 }) else { return [] }
            let group = (0..<perLoop).map { index in
                Lane(loop: loop, configuration: configuration, prepared: prepared,
                     id: lanes.count * perLoop + index + 1, logger: logger, retryInterval: retryInterval)
            }
            lanes[key] = group
            return group
        }
        var best: Lane?
        for lane in group {
            guard lane.wakeIfNeeded() else { continue }
            if best == nil || lane.inFlight < best!.inFlight { best = lane }
        }
        return best
    }
}

/// One connection of an event loop, with its state confined to that loop.
private final class Lane: Sendable {
    private enum State {
        case idle
        case connecting
        case ready(PostgresConnection, [PreparedQuery])
        case resting(until: NIODeadline)
        case closed
    }

    let loop: any EventLoop
    private let state: NIOLoopBoundBox<State>
    private let pending: NIOLoopBoundBox<Int>
    private let configuration: PostgresConnection.Configuration
    private let prepared: [String]
    private let id: Int
    private let logger: Logger
    private let retryInterval: TimeAmount

    init(loop: any EventLoop, configuration: PostgresConnection.Configuration, prepared: [String], id: Int,
         logger: Logger, retryInterval: TimeAmount) {
        self.loop = loop
        self.state = NIOLoopBoundBox(.idle, eventLoop: loop)
        self.pending = NIOLoopBoundBox(0, eventLoop: loop)
        self.configuration = configuration
        self.prepared = prepared
        self.id = id
        self.logger = logger
        self.retryInterval = retryInterval
    }

    /// On the loop: statements sent and not yet answered.
    var inFlight: Int { pending.value }

    /// On the loop: whether the lane is ready; if not, starts connecting when it is time.
    func wakeIfNeeded() -> Bool { readyConnection() != nil }

    /// On the loop: the rows of prepared statement `index`, or nil while the lane has no connection.
    func execute(_ index: Int, _ binds: [PostgresData], timeout: TimeAmount) -> EventLoopFuture<[PostgresRow]>? {
        guard case .ready(let connection, let statements) = state.value else { return nil }
        return run(on: connection, timeout: timeout) { statements[index].execute(binds) }
    }

    /// The connection when ready; otherwise starts connecting when it is time, and nil.
    private func readyConnection() -> PostgresConnection? {
        switch state.value {
        case .ready(let connection, _):
            return connection
        case .idle:
            connect()
            return nil
        case .resting(let until):
            if NIODeadline.now() >= until { connect() }
            return nil
        case .connecting, .closed:
            return nil
        }
    }

    func close() -> EventLoopFuture<Void> {
        let previous = state.value
        state.value = .closed
        guard case .ready(let connection, _) = previous else { return loop.makeSucceededVoidFuture() }
        return connection.close().recover { _ in }
    }

    private func run(
        on connection: PostgresConnection, timeout: TimeAmount,
        _ statement: () -> EventLoopFuture<[PostgresRow]>
    ) -> EventLoopFuture<[PostgresRow]> {
        let promise = loop.makePromise(of: [PostgresRow].self)
        pending.value += 1
        promise.futureResult.whenComplete { [pending] _ in pending.value -= 1 }
        let timer = loop.scheduleTask(in: timeout) { [self] in
            // The server's statement_timeout ends the statement; the connection is not reused.
            drop(connection)
            promise.fail(StoreError.unavailable.with(
                detail: "the database did not answer within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        statement().whenComplete { [self] result in
            timer.cancel()
            switch result {
            case .success(let rows):
                promise.succeed(rows)
            case .failure(let error):
                let storeError = PostgresErrors.storeError(error)
                if storeError == .unavailable { drop(connection) }
                promise.fail(storeError)
            }
        }
        return promise.futureResult
    }

    private func connect() {
        state.value = .connecting
        let (loop, prepared, logger) = (self.loop, self.prepared, self.logger)
        PostgresConnection.connect(on: loop, configuration: configuration, id: id, logger: logger)
            .flatMap { connection -> EventLoopFuture<(PostgresConnection, [PreparedQuery])> in
                let statements = prepared.map { connection.prepare(query: $0) }
                return EventLoopFuture.whenAllSucceed(statements, on: loop).map { (connection, $0) }
                    .flatMapError { error in
                        let closing: EventLoopFuture<Void> = connection.close()
                        return closing.recover { _ in }.flatMapThrowing { throw error }
                    }
            }
            .whenComplete { [self] result in
                switch (state.value, result) {
                case (.connecting, .success(let (connection, statements))):
                    state.value = .ready(connection, statements)
                    connection.closeFuture.whenComplete { [self] _ in drop(connection, rest: false) }
                case (.connecting, .failure):
                    state.value = .resting(until: .now() + retryInterval)
                case (_, .success(let (connection, _))):
                    let closing: EventLoopFuture<Void> = connection.close()  // closed while connecting
                    _ = closing
                case (_, .failure):
                    break
                }
            }
    }

    /// Forgets `connection` if it is the lane's. After a failure the lane rests before it
    /// reconnects; after the connection closed by itself it reconnects on the next statement.
    private func drop(_ connection: PostgresConnection, rest: Bool = true) {
        guard case .ready(let current, _) = state.value, current === connection else { return }
        state.value = rest ? .resting(until: .now() + retryInterval) : .idle
        let closing: EventLoopFuture<Void> = connection.close()
        _ = closing
    }
}
