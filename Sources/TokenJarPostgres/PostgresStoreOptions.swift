/// Where the PostgreSQL store connects, and how long it waits for the database.
///
/// The timeouts decide how a gateway behaves while the database is away: a request waits at most
/// `acquireTimeout` for a connection and then fails with `StoreError.unavailable` (the gateway
/// answers 503), while the pool keeps reconnecting in the background.
public struct PostgresStoreOptions: Sendable {
    /// Whether the connection uses TLS, with libpq's `sslmode` names.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without verifying its certificate (libpq's default).
        case prefer
        /// TLS or no connection, without verifying the certificate.
        case require
        /// TLS with the certificate verified against the system's trust roots and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    /// Kept for connecting only; never logged, never in an error.
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Shown in `pg_stat_activity`.
    public var applicationName: String

    /// The most connections this process opens (the pool's size). All instances together need
    /// fewer than the server's `max_connections`.
    public var maxConnections: Int
    /// How long an operation waits for a pooled connection before it fails with `.unavailable`.
    /// This is what makes requests fail fast while the database is down.
    public var acquireTimeout: Duration
    /// How long an operation may take once it has a connection; also the server-side
    /// `statement_timeout` of every connection.
    public var statementTimeout: Duration
    /// Opening one connection (TCP, TLS, authentication).
    public var connectTimeout: Duration
    /// How long opening the store waits for the database and its migrations.
    public var startupTimeout: Duration
    /// Most rows one sweep statement deletes.
    public var sweepBatch: Int
    /// Most writes one group commit carries.
    public var maxWriteBatch: Int = 256
    /// Data-plane connections per event loop (`PostgresLanes`); 0 sends every statement to the pool.
    public var lanesPerLoop: Int = 4

    public init(
        host: String = "127.0.0.1", port: Int = 5432, user: String, password: String? = nil,
        database: String, tls: TLSMode = .prefer, applicationName: String = "tokenjar",
        maxConnections: Int = 10, acquireTimeout: Duration = .milliseconds(500),
        statementTimeout: Duration = .seconds(5), connectTimeout: Duration = .seconds(3),
        startupTimeout: Duration = .seconds(15), sweepBatch: Int = 500
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.applicationName = applicationName
        self.maxConnections = maxConnections
        self.acquireTimeout = acquireTimeout
        self.statementTimeout = statementTimeout
        self.connectTimeout = connectTimeout
        self.startupTimeout = startupTimeout
        self.sweepBatch = sweepBatch
    }

    /// `host:port/database` for logs: no user, no password.
    public var endpointDescription: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)/\(database)"
    }
}

extension Duration {
    /// Whole milliseconds, at least 1.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(1, seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
    }
}
