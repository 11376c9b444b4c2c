import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The embedded store: one SQLite file in WAL mode, for a single gateway process.
///
/// Writes go to one writer thread that commits them in groups (see `SQLiteWriter`); loads,
/// listings and stats go to reader threads with their own connections. No call blocks the
/// caller's thread: event-loop calls return futures on the given loop, the others are async.
public final class SQLiteSessionStore: SessionStore {
    public let path: String
    public let options: SQLiteStoreOptions
    let writer: SQLiteWriter
    private let readers: SQLiteReaderPool
    private let fileLock: FileLock
    private let shutDown = NIOLockedValueBox(false)

    /// This process is the only writer of the file.
    public var isExclusive: Bool { true }

    /// Opens (creating it and its parent directory if needed) and migrates the database at
    /// `path`. Blocks while it does so: call it at startup, not on an event loop.
    ///
    /// While open, the store holds an exclusive lock on `PATH-lock`; opening a file that another
    /// store (in this process or another) has open fails with `StoreError.unavailable`.
    public init(
        path: String, options: SQLiteStoreOptions = SQLiteStoreOptions(),
        logger: Logger = Logger(label: "tokenjar.store.sqlite")
    ) throws {
        self.path = path
        self.options = options
        try Self.createParentDirectory(of: path)
        let lock = try FileLock(path: path + "-lock")
        fileLock = lock
        let busy = Int32(clamping: options.busyTimeoutMilliseconds)
        let writeDB: SQLiteConnection
        do {
            writeDB = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busy)
        } catch {
            lock.release()
            throw error
        }
        var readDBs: [SQLiteConnection] = []
        let writeContext: SQLiteWriteContext
        let readContexts: [SQLiteReadContext]
        do {
            try writeDB.exec("PRAGMA foreign_keys = ON")
            try SQLiteMigrations.migrate(writeDB, now: unixNow(), logger: logger)
            guard try writeDB.scalarText("PRAGMA journal_mode = WAL")?.lowercased() == "wal" else {
                throw StoreError.unavailable.with(detail: "the database cannot use WAL mode")
            }
            try writeDB.exec("PRAGMA synchronous = \(options.synchronous.rawValue)")
            for _ in 0..<max(1, options.readConnections) {
                let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busy)
                readDBs.append(db)
                try db.exec("PRAGMA query_only = ON")
            }
            writeContext = try SQLiteWriteContext(db: writeDB)
            readContexts = try readDBs.map { try SQLiteReadContext(db: $0) }
        } catch {
            readDBs.forEach { $0.close() }
            writeDB.close()
            lock.release()
            throw error
        }
        writer = SQLiteWriter(context: writeContext, options: options, logger: logger)
        readers = SQLiteReaderPool(contexts: readContexts, logger: logger)
        logger.info(
            "session store opened",
            metadata: ["path": "\(path)", "synchronous": "\(options.synchronous.rawValue)"])
    }

    private static func createParentDirectory(of path: String) throws {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw StoreError.unavailable.with(detail: "cannot create the directory of the database")
        }
    }

    /// Counters of the writer: transactions committed, jobs carried, largest batch.
    public var writerStatistics: SQLiteWriterStatistics { writer.statistics }

    // MARK: Data plane

    public func load(_ tokenHash: TokenHash, now: Int64, on eventLoop: any EventLoop) -> EventLoopFuture<SessionRecord?> {
        readers.submitGrouped(on: eventLoop) { try $0.load(tokenHash, now: now) }
    }

    public func write(_ write: SessionWrite, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard !write.isEmpty else {
            return shutDown.withLockedValue { $0 }
                ? eventLoop.makeFailedFuture(StoreError.closed) : eventLoop.makeSucceededVoidFuture()
        }
        return writer.submitGrouped(on: eventLoop) { try $0.apply(write) }
    }

    public func delete(_ tokenHash: TokenHash, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        writer.submitGrouped(on: eventLoop) { try $0.delete(tokenHash) }
    }

    public func setIdentity(_ tokenHash: TokenHash, _ identity: SessionIdentity?, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        writer.submitGrouped(on: eventLoop) { try $0.setIdentity(tokenHash, identity) }
    }

    public func rotate(from old: TokenHash, to new: SessionRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        writer.submitGrouped(on: eventLoop) { try $0.rotate(from: old, to: new) }
    }

    // MARK: Maintenance and admin

    /// Deletes expired sessions, then expired cookies, `options.sweepBatch` at a time: each
    /// step is one job of the writer, so writes of the data plane commit between steps.
    public func sweep(now: Int64) async throws -> Int {
        let limit = max(1, options.sweepBatch)
        var sessions = 0
        while true {
            let removed = try await writer.submit { try $0.sweepSessions(now: now, limit: limit) }
            sessions += removed
            if removed < limit { break }
        }
        while try await writer.submit({ try $0.sweepCookies(now: now, limit: limit) }) == limit {}
        return sessions
    }

    /// One job of the writer: the oldest anonymous sessions are chosen and deleted in one commit.
    public func evictIdleAnonymous(count: Int, lastSeenBefore: Int64) async throws -> [TokenHash] {
        guard count > 0 else { return [] }
        return try await writer.submit { try $0.evictIdleAnonymous(limit: count, lastSeenBefore: lastSeenBefore) }
    }

    public func sessions(openID: String) async throws -> [SessionRecord] {
        try await readers.submit { try $0.sessions(openID: openID) }
    }

    public func sessions(hashPrefix: String, limit: Int) async throws -> [SessionRecord] {
        let prefix = try HashPrefix(hashPrefix)
        guard limit > 0 else { return [] }
        return try await readers.submit { try $0.sessions(hashRange: (prefix.lower, prefix.upper), limit: limit) }
    }

    public func deleteSessions(openID: String) async throws -> Int {
        try await writer.submit { try $0.deleteSessions(openID: openID) }
    }

    public func sharedValue(_ key: String) async throws -> (value: [UInt8], expiresAt: Int64)? {
        try await readers.submit { try $0.sharedValue(key) }
    }

    public func setSharedValue(_ key: String, _ value: [UInt8], expiresAt: Int64) async throws {
        try await writer.submit { try $0.setSharedValue(key, value, expiresAt: expiresAt) }
    }

    public func stats() async throws -> StoreStats {
        try await readers.submit { try $0.stats() }
    }

    public func ping() async throws {
        try await readers.submit { try $0.ping() }
    }

    /// Lets queued reads finish, commits queued writes, checkpoints the WAL (see
    /// `SQLiteStoreOptions.checkpointOnShutdown`) and closes the file. Every later call fails
    /// with `StoreError.closed`, and so does a second shutdown.
    public func shutdown() async throws {
        let first = shutDown.withLockedValue { done in
            defer { done = true }
            return !done
        }
        guard first else { throw StoreError.closed }
        await readers.shutdown()
        await writer.shutdown()
        fileLock.release()
    }
}
