import Logging

/// The versioned schema of the SQLite store.
///
/// Migrations are applied in order, in one transaction, when the store opens; each applied
/// version is recorded in `schema_migrations`. Re-opening applies nothing new. A database whose
/// recorded version is newer than the newest known here is refused (`StoreError.schemaTooNew`),
/// so an older gateway never writes into a schema it does not understand.
enum SQLiteMigrations {
    struct Migration {
        var version: Int
        var description: String
        var sql: String
    }

    /// `PRAGMA application_id` of a TokenJar store ("TJAR"), so an unrelated SQLite file is
    /// refused instead of being migrated.
    static let applicationID: Int32 = 0x544A_4152

    static let all: [Migration] = [
        Migration(
            version: 1,
            description: "sessions and cookies",
            sql: """
                CREATE TABLE sessions (
                    token_hash   BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
                    created_at   INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    expires_at   INTEGER NOT NULL,
                    openid       TEXT,
                    unionid      TEXT,
                    session_key  BLOB
                ) WITHOUT ROWID;
                CREATE INDEX sessions_expires_at ON sessions (expires_at);
                CREATE INDEX sessions_openid ON sessions (openid) WHERE openid IS NOT NULL;
                CREATE TABLE cookies (
                    token_hash BLOB    NOT NULL REFERENCES sessions (token_hash) ON DELETE CASCADE,
                    name       TEXT    NOT NULL,
                    domain     TEXT    NOT NULL,
                    path       TEXT    NOT NULL,
                    expires_at INTEGER,
                    payload    BLOB    NOT NULL,
                    PRIMARY KEY (token_hash, name, domain, path)
                ) WITHOUT ROWID;
                CREATE INDEX cookies_expires_at ON cookies (expires_at) WHERE expires_at IS NOT NULL;
                """
        ),
        Migration(
            version: 2,
            description: "values shared between gateway instances",
            sql: """
                CREATE TABLE shared_values (
                    key        TEXT    NOT NULL PRIMARY KEY,
                    value      BLOB    NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """
        ),
    ]

    static var latestVersion: Int { all.last?.version ?? 0 }

    /// Brings the database up to `latestVersion`; returns the version it was at before.
    @discardableResult
    static func migrate(_ db: SQLiteConnection, now: Int64, logger: Logger) throws -> Int {
        try db.exec("BEGIN IMMEDIATE")
        do {
            let appID = Int32(try db.scalarText("PRAGMA application_id").flatMap { Int32($0) } ?? 0)
            let hasTables = try db.scalarText("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'") != "0"
            // The application id is set in the transaction that creates the first tables, so a
            // file with tables and another (or no) id was written by something else.
            if appID != applicationID && (appID != 0 || hasTables) {
                throw StoreError.incompatible
            }
            try db.exec("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version     INTEGER NOT NULL PRIMARY KEY,
                    description TEXT    NOT NULL,
                    applied_at  INTEGER NOT NULL
                )
                """)
            let current = Int(try db.scalarText("SELECT coalesce(max(version), 0) FROM schema_migrations") ?? "0") ?? 0
            if current > latestVersion {
                throw StoreError.schemaTooNew.with(
                    detail: "database is at version \(current), this build knows up to \(latestVersion)")
            }
            let record = try db.prepare(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)")
            for migration in all where migration.version > current {
                logger.info(
                    "applying session store migration",
                    metadata: ["version": "\(migration.version)", "description": "\(migration.description)"])
                try db.exec(migration.sql)
                try record.run(.int(Int64(migration.version)), .text(migration.description), .int(now))
            }
            try db.exec("PRAGMA application_id = \(applicationID)")
            try db.exec("COMMIT")
            return current
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }
}
