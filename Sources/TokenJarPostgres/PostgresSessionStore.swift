import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import TokenJarStore

/// A session store in PostgreSQL, shared by every gateway instance that points at the database.
///
/// `isExclusive` is false: other instances write the same rows, so the gateway keeps no jar in
/// memory and every request loads its jar here. Each call leases a connection from a
/// postgres-nio `PostgresClient` pool, under the deadlines of `PostgresStoreOptions`: while the
/// database is away a call fails with `StoreError.unavailable` after `acquireTimeout`, and the
/// pool reconnects by itself when it returns. Writes commit before their futures succeed; the
/// usual write (cookie upserts of a known session) is group-committed (`PostgresWriteBatcher`).
public final class PostgresSessionStore: SessionStore {
    public var isExclusive: Bool { false }

    public let options: PostgresStoreOptions
    private let runner: PostgresRunner
    private let clientTask: Task<Void, Never>
    /// For statements: never below warning, so no query's values ever reach a debug log.
    private let queryLogger: Logger
    private let health: HealthLog
    /// Group commit of the usual write (cookie upserts of a known session).
    private let batcher: PostgresWriteBatcher
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
        let statementLogger = quiet
        batcher = PostgresWriteBatcher(maxBatch: options.maxWriteBatch) { statement in
            do {
                let found = try await runner.run(limits: limits) { db in
                    var found = Set<TokenHash>()
                    for try await bytes in try await db.query(statement, logger: statementLogger).decode(ByteBuffer.self) {
                        if let hash = TokenHash(bytes: bytes.readableBytesView) { found.insert(hash) }
                    }
                    return found
                }
                health.record(Result<Void, any Error>.success(()))
                return found
            } catch {
                health.record(Result<Void, any Error>.failure(error))
                throw error
            }
        }
    }

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
        perform(on: eventLoop, dataPlane) { db, logger in try await PostgresReads.load(tokenHash, now: now, db, logger) }
    }

    public func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if write.isEmpty {
            let closed = state.withLockedValue { $0.closed }
            return closed ? eventLoop.makeFailedFuture(StoreError.closed) : eventLoop.makeSucceededVoidFuture()
        }
        if let cookies = PostgresSingleStatementWrite.upserts(of: write) {
            let admitted = state.withLockedValue { state -> Bool in
                guard !state.closed else { return false }
                state.inFlight += 1
                return true
            }
            guard admitted else { return eventLoop.makeFailedFuture(StoreError.closed) }
            let promise = eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { [state] _ in state.withLockedValue { $0.inFlight -= 1 } }
            batcher.submit(write.tokenHash, cookies, promise: promise)
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
        await stopClient()
    }

    private func stopClient() async {
        clientTask.cancel()
        await clientTask.value
    }

    /// A store dropped without `shutdown()` still closes its pool.
    deinit { clientTask.cancel() }
}
