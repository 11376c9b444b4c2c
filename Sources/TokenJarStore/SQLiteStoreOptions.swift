/// Settings of the SQLite session store.
public struct SQLiteStoreOptions: Sendable {
    /// How hard a commit waits for the disk (SQLite's `PRAGMA synchronous`, in WAL mode).
    public enum Synchronous: String, Hashable, Sendable, CaseIterable {
        /// The WAL is fsynced at every commit: a committed write survives a power loss.
        case full = "FULL"
        /// The WAL is fsynced only at checkpoints: a committed write survives a crash of the
        /// gateway process, but the last commits may be lost in a power loss or kernel crash.
        case normal = "NORMAL"
    }

    /// Durability of commits. Default `.full`.
    public var synchronous: Synchronous
    /// How long a statement waits for a lock held by another connection before failing with
    /// `StoreError.unavailable`, in milliseconds. Default 5000.
    public var busyTimeoutMilliseconds: Int
    /// The most jobs (writes, deletes, ...) one transaction carries. Default 512.
    public var maxBatch: Int
    /// The most sessions (or expired cookies) one sweep step deletes before letting other
    /// writes commit. Default 500.
    public var sweepBatch: Int
    /// Read connections, each with its own thread. Default 2.
    public var readConnections: Int
    /// Whether shutdown folds the WAL back into the database and truncates it. Default true.
    public var checkpointOnShutdown: Bool

    public init(
        synchronous: Synchronous = .full,
        busyTimeoutMilliseconds: Int = 5000,
        maxBatch: Int = 512,
        sweepBatch: Int = 500,
        readConnections: Int = 2,
        checkpointOnShutdown: Bool = true
    ) {
        self.synchronous = synchronous
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.maxBatch = maxBatch
        self.sweepBatch = sweepBatch
        self.readConnections = readConnections
        self.checkpointOnShutdown = checkpointOnShutdown
    }
}
