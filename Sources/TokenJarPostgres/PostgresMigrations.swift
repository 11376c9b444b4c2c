import Logging
import PostgresNIO
import TokenJarStore

/// The versioned schema of the PostgreSQL store.
///
/// Every instance migrates when it opens, in one transaction that first takes a transaction-level
/// advisory lock: instances starting together queue on the lock, the first applies what is
/// missing, the others then find nothing to do. DDL is transactional in PostgreSQL, so a failed
/// migration leaves nothing behind. A database recording a version newer than this build knows is
/// refused with `StoreError.schemaTooNew` before anything is written.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: Int
        var description: String
        var statements: [String]
    }

    /// `pg_advisory_xact_lock` key of migrations: "TJAR" and 1.
    static let migrationLockKey: Int64 = 0x544A_4152_0001
    /// `pg_try_advisory_lock` key of the sweeper: "TJAR" and 2.
    static let sweepLockKey: Int64 = 0x544A_4152_0002

    static let all: [Migration] = [
        Migration(version: 1, description: "sessions and cookies", statements: [
            """
            CREATE TABLE tokenjar_sessions (
                token_hash   bytea  NOT NULL PRIMARY KEY CHECK (octet_length(token_hash) = 32),
                created_at   bigint NOT NULL,
                last_seen_at bigint NOT NULL,
                expires_at   bigint NOT NULL,
                openid       text,
                unionid      text,
                session_key  bytea
            )
            """,
            "CREATE INDEX tokenjar_sessions_expires_at ON tokenjar_sessions (expires_at)",
            "CREATE INDEX tokenjar_sessions_openid ON tokenjar_sessions (openid) WHERE openid IS NOT NULL",
            // Names and paths compare bytewise (COLLATE "C"), as the other stores order them.
            // The table churns (an upsert per Set-Cookie), so autovacuum visits it early and
            // pages keep room for in-place (HOT) updates.
            """
            CREATE TABLE tokenjar_cookies (
                token_hash bytea  NOT NULL REFERENCES tokenjar_sessions (token_hash) ON DELETE CASCADE,
                name       text   COLLATE "C" NOT NULL,
                domain     text   COLLATE "C" NOT NULL,
                path       text   COLLATE "C" NOT NULL,
                expires_at bigint,
                payload    bytea  NOT NULL,
                PRIMARY KEY (token_hash, name, domain, path)
            ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05)
            """,
            "CREATE INDEX tokenjar_cookies_expires_at ON tokenjar_cookies (expires_at) WHERE expires_at IS NOT NULL",
        ]),
        Migration(version: 2, description: "values shared between gateway instances", statements: [
            """
            CREATE TABLE tokenjar_shared_values (
                key        text   COLLATE "C" NOT NULL PRIMARY KEY,
                value      bytea  NOT NULL,
                expires_at bigint NOT NULL
            )
            """,
        ]),
    ]

    static var latestVersion: Int { all.last?.version ?? 0 }

    /// Brings the database up to `latestVersion`; returns the version it was at before.
    @discardableResult
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.transaction(logger: logger) { db in
            // The migration may outlast the per-statement timeout set for the data plane.
            try await db.query("SET LOCAL statement_timeout = '120s'", logger: logger)
            try await db.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
            let hasHistory = try await exists("tokenjar_schema_migrations", db, logger)
            if !hasHistory, try await exists("tokenjar_sessions", db, logger) {
                throw StoreError.incompatible.with(detail: "tokenjar_sessions exists without tokenjar_schema_migrations")
            }
            try await db.query("""
                CREATE TABLE IF NOT EXISTS tokenjar_schema_migrations (
                    version     integer     NOT NULL PRIMARY KEY,
                    description text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var current = 0
            for try await version in try await db.query(
                "SELECT coalesce(max(version), 0)::integer FROM tokenjar_schema_migrations", logger: logger
            ).decode(Int32.self) {
                current = Int(version)
            }
            guard current <= latestVersion else {
                throw StoreError.schemaTooNew.with(
                    detail: "database is at version \(current), this build knows up to \(latestVersion)")
            }
            for migration in all where migration.version > current {
                for statement in migration.statements {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await db.query("""
                    INSERT INTO tokenjar_schema_migrations (version, description)
                    VALUES (\(Int32(migration.version)), \(migration.description))
                    """, logger: logger)
                logger.notice("migrated the PostgreSQL store", metadata: [
                    "version": "\(migration.version)", "description": "\(migration.description)",
                ])
            }
            return current
        }
    }

    private static func exists(_ table: String, _ db: PostgresConnection, _ logger: Logger) async throws -> Bool {
        try await db.count("SELECT 1 WHERE to_regclass(\(table)) IS NOT NULL", logger: logger) > 0
    }
}
