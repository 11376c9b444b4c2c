import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import TokenJarStore

/// A session store in PostgreSQL, shared by every gateway instance that points at the database.
///
/// `isExclusive` is false: other instances write the same rows, so the gateway keeps no jar in
/// memory and every request loads its jar here. The data plane's load and group commit run on a
/// dedicated connection of the request's event loop (`PostgresLanes`); every other call, and
/// those two while a lane is not connected, leases a connection from a postgres-nio
/// `PostgresClient` pool. Both run under the deadlines of `PostgresStoreOptions`: while the
/// database is away a call fails with `StoreError.unavailable` after `acquireTimeout`, and the
/// pool and the lanes reconnect by themselves when it returns. Writes commit before their
/// futures succeed; the data plane's writes (cookie upserts, and creating or touching an
/// anonymous session) are group-committed (`PostgresWriteBatcher`).
public final class PostgresSessionStore: SessionStore {
    public var isExclusive: Bool { false }

    public let options: PostgresStoreOptions
    private let runner: PostgresRunner
    private let clientTask: Task<Void, Never>
    /// For statements: never below warning, so no query's values ever reach a debug log.
    private let queryLogger: Logger
    private let health: HealthLog
    /// Group commit of the data plane's writes.
    private let batcher: PostgresWriteBatcher
    /// The data plane's connections, one per event loop.
    private let lanes: PostgresLanes
    private let state = NIOLockedValueBox(OpenState())

    private struct OpenState {
        var closed = false
        var inFlight = 0
    }

    /// Connects, migrates the schema (waiting up to `startupTimeout` for the database) and
    /// returns the open store. Fails with `.unavailable` when the database cannot be reached in
    /// time, `.schemaTooNew` when it was migrated by a newer build.
    public static func open(
        _ options: PostgresStoreOptions, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PostgresSessionStore {
        let store = PostgresSessionStore(options: options, logger: logger, eventLoopGroup: eventLoopGroup)
        do {
            let queryLogger = store.queryLogger
            let limits = OperationLimits(acquire: options.startupTimeout, total: options.startupTimeout + .seconds(120))
            let before = try await store.runner.run(limits: limits) { db in
                try await PostgresMigrations.migrate(db, logger: queryLogger)
            }
            logger.notice("PostgreSQL store open", metadata: [
                "endpoint": "\(options.endpointDescription)", "schema_version": "\(PostgresMigrations.latestVersion)",
                "was_at": "\(before)", "pool": "\(options.maxConnections)",
            ])
            return store
        } catch {
            await store.stopClient()
            let storeError = PostgresErrors.storeError(error)
            logger.error("cannot open the PostgreSQL store", metadata: [
                "endpoint": "\(options.endpointDescription)", "error": "\(storeError)",
            ])
            throw storeError
        }
    }

    private init(options: PostgresStoreOptions, logger: Logger, eventLoopGroup: any EventLoopGroup) {
        self.options = options
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        queryLogger = quiet
        let health = HealthLog(logger: logger, endpoint: options.endpointDescription)
        self.health = health
        let client = PostgresClient(
            configuration: PostgresClientSetup.configuration(options), eventLoopGroup: eventLoopGroup,
            backgroundLogger: quiet)
        let runner = PostgresRunner(client: client, group: eventLoopGroup)
        self.runner = runner
        clientTask = Task { await client.run() }
        let limits = OperationLimits(
            acquire: options.acquireTimeout, total: options.acquireTimeout + options.statementTimeout)
        var laneConfiguration: PostgresConnection.Configuration?
        do {
            if options.lanesPerLoop > 0 {
                laneConfiguration = try PostgresClientSetup.connectionConfiguration(options)
            }
        } catch {
            logger.warning("PostgreSQL data-plane connections off; every statement uses the pool", metadata: [
                "error": "\(type(of: error))",
            ])
        }
        let lanes = PostgresLanes(
            configuration: laneConfiguration, prepared: [PostgresReads.preparedLoad, PostgresBatchStatement.upsertSQL, PostgresBatchStatement.sql],
            perLoop: options.lanesPerLoop, logger: quiet)
        self.lanes = lanes
        let statementLogger = quiet
        let laneTimeout = TimeAmount(limits.total)
        batcher = PostgresWriteBatcher(maxBatch: options.maxWriteBatch) { writes, loop in
            // A lane runs the batch statement prepared, for batches of one too; the pool runs the
            // one-write statement for a batch of one.
            let batch = PostgresBatchStatement(writes)
            let rows = lanes.execute(batch.hasSessionChanges ? 2 : 1, batch.preparedBinds, on: loop, timeout: laneTimeout)
                ?? runner.run(on: loop, limits: limits) { db in
                    let statement = writes.count == 1 && writes[0].upsertsOnly
                        ? PostgresSingleStatementWrite.query(writes[0].tokenHash, writes[0].cookies)
                        : batch.query
                    return try await Self.collect(db.query(statement, logger: statementLogger))
                }
            let found = rows.flatMapThrowing { rows -> Set<TokenHash> in
                var found = Set<TokenHash>()
                for row in rows {
                    if let hash = TokenHash(bytes: try PostgresReads.firstBytes(row).readableBytesView) { found.insert(hash) }
                }
                return found
            }
            found.whenComplete { health.record($0) }
            return found
        }
    }

    private static func collect(_ rows: PostgresRowSequence) async throws -> [PostgresRow] {
        var all: [PostgresRow] = []
        for try await row in rows { all.append(row) }
        return all
    }

    /// Statements run on the data plane's lanes, for tests.
    var laneStatements: Int { lanes.statements }

    /// Counters of the group commit.
    var batchStatistics: PostgresBatchStatistics { batcher.statistics }

    // MARK: Running operations

    private var dataPlane: OperationLimits {
        OperationLimits(acquire: options.acquireTimeout, total: options.acquireTimeout + options.statementTimeout)
    }

    private var background: OperationLimits {
        OperationLimits(acquire: max(options.acquireTimeout, options.statementTimeout), total: .seconds(600))
    }

    private func perform<R: Sendable>(
        on eventLoop: any EventLoop, _ limits: OperationLimits,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> R
    ) -> EventLoopFuture<R> {
        let admitted = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
        guard admitted else { return eventLoop.makeFailedFuture(StoreError.closed) }
        let logger = queryLogger
        let future = runner.run(on: eventLoop, limits: limits) { db in try await body(db, logger) }
        future.whenComplete { [state, health] result in
            state.withLockedValue { $0.inFlight -= 1 }
            health.record(result)
        }
        return future
    }

    private func perform<R: Sendable>(
        _ limits: OperationLimits, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> R
    ) async throws -> R {
        try await perform(on: runner.group.any(), limits, body).get()
    }

    // MARK: SessionStore

    public func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop)
        -> EventLoopFuture<SessionRecord?>
    {
        guard admit() else { return eventLoop.makeFailedFuture(StoreError.closed) }
        let binds = PostgresReads.preparedLoadBinds(tokenHash, now: now)
        let rows = lanes.execute(0, binds, on: eventLoop, timeout: TimeAmount(dataPlane.total))
            ?? runner.run(on: eventLoop, limits: dataPlane) { [queryLogger] db in
                try await Self.collect(db.query(PostgresReads.loadQuery(tokenHash, now: now), logger: queryLogger))
            }
        let loaded = rows.flatMapThrowing { try PostgresReads.sessions(from: $0).first }
            .flatMapErrorThrowing { throw PostgresErrors.storeError($0) }
        loaded.whenComplete { [state, health] result in
            state.withLockedValue { $0.inFlight -= 1 }
            health.record(result)
        }
        return loaded
    }

    /// Counts a call in; false once the store is closed.
    private func admit() -> Bool {
        state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
    }

    public func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if write.isEmpty {
            let closed = state.withLockedValue { $0.closed }
            return closed ? eventLoop.makeFailedFuture(StoreError.closed) : eventLoop.makeSucceededVoidFuture()
        }
        if let batched = PostgresBatchStatement.Write(write) {
            let admitted = state.withLockedValue { state -> Bool in
                guard !state.closed else { return false }
                state.inFlight += 1
                return true
            }
            guard admitted else { return eventLoop.makeFailedFuture(StoreError.closed) }
            let promise = eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { [state] _ in state.withLockedValue { $0.inFlight -= 1 } }
            batcher.submit(batched, promise: promise)
            return promise.futureResult
        }
        return perform(on: eventLoop, dataPlane) { db, logger in
            try await db.transaction(logger: logger) { try await PostgresWrites.apply(write, $0, logger) }
        }
    }

    public func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        perform(on: eventLoop, dataPlane) { db, logger in try await PostgresWrites.delete(tokenHash, db, logger) }
    }

    public func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        perform(on: eventLoop, dataPlane) { db, logger in
            try await PostgresWrites.setIdentity(tokenHash, identity, db, logger)
        }
    }

    public func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        perform(on: eventLoop, dataPlane) { db, logger in
            try await db.transaction(logger: logger) { try await PostgresWrites.rotate(from: old, to: new, $0, logger) }
        }
    }

    public func sweep(now: Int64) async throws -> Int {
        let batch = options.sweepBatch
        return try await perform(background) { db, logger in
            try await PostgresSweeper.sweep(now: now, batch: batch, db, logger) ?? 0
        }
    }

    public func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash] {
        guard count > 0 else { return [] }
        return try await perform(background) { db, logger in
            try await PostgresWrites.evictIdleAnonymous(count: count, lastSeenBefore: lastSeenBefore, db, logger)
        }
    }

    public func sessions(openID: String) async throws -> [SessionRecord] {
        try await perform(dataPlane) { db, logger in try await PostgresReads.sessions(openID: openID, db, logger) }
    }

    public func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord] {
        let prefix = try HashPrefix(hashPrefix)
        let count = max(0, limit)
        return try await perform(dataPlane) { db, logger in
            try await PostgresReads.sessions(lower: prefix.lower, upper: prefix.upper, limit: count, db, logger)
        }
    }

    public func deleteSessions(openID: String) async throws -> Int {
        try await perform(dataPlane) { db, logger in try await PostgresWrites.deleteSessions(openID: openID, db, logger) }
    }

    public func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)? {
        try await perform(dataPlane) { db, logger in try await PostgresReads.sharedValue(key, db, logger) }
    }

    public func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws {
        try await perform(dataPlane) { db, logger in
            try await PostgresWrites.setSharedValue(key, value, expiresAt: expiresAt, db, logger)
        }
    }

    public func stats() async throws -> StoreStats {
        try await perform(dataPlane) { db, logger in try await PostgresReads.stats(db, logger) }
    }

    public func ping() async throws {
        try await perform(dataPlane) { db, logger in try await PostgresReads.ping(db, logger) }
    }

    /// Refuses new calls, lets the running ones finish (up to their deadline) and closes the pool.
    public func shutdown() async throws {
        let wasClosed = state.withLockedValue { state -> Bool in
            defer { state.closed = true }
            return state.closed
        }
        guard !wasClosed else { throw StoreError.closed }
        let end = ContinuousClock.now + dataPlane.total
        while state.withLockedValue({ $0.inFlight }) > 0, ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(5))
        }
        await lanes.shutdown()
        await stopClient()
    }

    private func stopClient() async {
        clientTask.cancel()
        await clientTask.value
    }

    /// A store dropped without `shutdown()` still closes its pool.
    deinit { clientTask.cancel() }
}
