import Foundation

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
    /// `id:base64key,...` (first = the key that encrypts), or empty for none. Secret.
    public var encryptionKeys: String
    /// Keep cookie values and session keys unencrypted when no key is set (an explicit choice).
    public var allowPlaintext: Bool
    /// Most connections one gateway opens to PostgreSQL.
    public var postgresPoolSize: Int
    /// PostgreSQL connections per event loop for the requests' loads and writes (0 = pool only).
    public var postgresLanesPerLoop: Int
    /// How long a request waits for a PostgreSQL connection before it is answered 503.
    public var postgresAcquireTimeout: Duration
    /// How long one PostgreSQL operation may run (also the server's `statement_timeout`).
    public var postgresStatementTimeout: Duration

    public init(
        url: StoreURL = .sqlite(path: "tokenjar.db"),
        sqliteSynchronous: SQLiteSynchronous = .full,
        cacheEntries: Int = 100_000,
        encryptionKeys: String = "",
        allowPlaintext: Bool = false,
        postgresPoolSize: Int = 10,
        postgresLanesPerLoop: Int = 4,
        postgresAcquireTimeout: Duration = .milliseconds(500),
        postgresStatementTimeout: Duration = .seconds(5)
    ) {
        self.url = url
        self.sqliteSynchronous = sqliteSynchronous
        self.cacheEntries = cacheEntries
        self.encryptionKeys = encryptionKeys
        self.allowPlaintext = allowPlaintext
        self.postgresPoolSize = postgresPoolSize
        self.postgresLanesPerLoop = postgresLanesPerLoop
        self.postgresAcquireTimeout = postgresAcquireTimeout
        self.postgresStatementTimeout = postgresStatementTimeout
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
        .key("encryption_keys", .encryptionKeys, \.encryptionKeys, secret: true,
             doc: "AES-256-GCM keys for cookie values and session keys at rest: `id:base64key,...` (ids 0–255, "
                + "32-byte keys); the first encrypts, all decrypt, so a new key goes first to rotate."),
        .key("allow_plaintext", .bool, \.allowPlaintext,
             doc: "With no `encryption_keys`, store cookie values unencrypted instead of refusing to start "
                + "(logged as a warning). Not needed for `memory`."),
        .key("postgres_pool_size", .integer(1...1_000), \.postgresPoolSize,
             doc: "Most connections one gateway opens to PostgreSQL; all instances together must stay "
                + "below the server's `max_connections`."),
        .key("postgres_lanes_per_loop", .integer(0...64), \.postgresLanesPerLoop,
             doc: "PostgreSQL connections per event loop that carry the requests' jar loads and group commits "
                + "(prepared statements, no thread hop), on top of `postgres_pool_size`; `0` sends every "
                + "statement through the pool."),
        .key("postgres_acquire_timeout", .duration(), \.postgresAcquireTimeout,
             doc: "How long a request waits for a PostgreSQL connection before it gets `503 store_unavailable`."),
        .key("postgres_statement_timeout", .duration(), \.postgresStatementTimeout,
             doc: "How long one PostgreSQL operation may run; also sent as the server's `statement_timeout`."),
    ]
}

extension ConfigValueType where Value == String {
    /// `id:base64key,...` with ids 0–255 and 32-byte keys, or `""`. Messages never show a key.
    static var encryptionKeys: Self {
        .string("key list (`id:base64key,...`)") { text throws(ConfigValueError) in
            let trimmed = text.trimmingSpaces()
            guard !trimmed.isEmpty else { return "" }
            var ids: Set<Int> = []
            for (index, entry) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let id = Int(parts[0].trimmingSpaces()), (0...255).contains(id) else {
                    throw ConfigValueError("entry \(index + 1) is not ID:BASE64KEY with an id from 0 to 255")
                }
                guard ids.insert(id).inserted else { throw ConfigValueError("key id \(id) appears twice") }
                var base64 = parts[1].trimmingSpaces()
                    .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                while base64.utf8.count % 4 != 0 { base64 += "=" }
                guard let key = Data(base64Encoded: base64), key.count == 32 else {
                    throw ConfigValueError("key \(id) is not 32 bytes in base64 (make one with: openssl rand -base64 32)")
                }
            }
            return trimmed
        }
    }
}
