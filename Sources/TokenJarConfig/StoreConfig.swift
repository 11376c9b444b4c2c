/// Where sessions and cookie jars are kept.
public struct StoreConfig: Sendable, Equatable {
    /// SQLite's `synchronous` pragma for the SQLite store.
    public enum SQLiteSynchronous: String, Sendable, CaseIterable {
        /// Every commit reaches the disk before it is acknowledged.
        case full
        /// Faster; the last commits may be lost on power failure (never corrupted).
        case normal
    }

    public var url: StoreURL
    public var sqliteSynchronous: SQLiteSynchronous
    /// Jars kept in memory; used only by stores a single gateway owns (memory, SQLite).
    public var cacheEntries: Int

    public init(
        url: StoreURL = .sqlite(path: "tokenjar.db"),
        sqliteSynchronous: SQLiteSynchronous = .full,
        cacheEntries: Int = 100_000
    ) {
        self.url = url
        self.sqliteSynchronous = sqliteSynchronous
        self.cacheEntries = cacheEntries
    }
}

extension StoreConfig {
    static let configKeys: [ConfigKey<StoreConfig>] = [
        .key("url", .storeURL, \.url,
             doc: "`memory`, `sqlite:PATH` or `postgres://user@host:port/db`. A password in the URL is never shown."),
        .key("sqlite_synchronous", .choice, \.sqliteSynchronous,
             doc: "SQLite durability: `full` syncs every commit; `normal` may lose the last commits on power loss."),
        .key("cache_entries", .integer(0...Int.max), \.cacheEntries,
             doc: "Cookie jars cached in memory; only for stores one gateway owns (memory, SQLite). `0` disables."),
    ]
}
