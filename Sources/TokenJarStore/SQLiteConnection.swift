import CSQLite

/// One SQLite connection, used by exactly one thread (opened with SQLITE_OPEN_NOMUTEX).
/// Statements are prepared once with SQLITE_PREPARE_PERSISTENT, held by whoever prepared them
/// (the write and read contexts keep theirs in a table indexed by an enum, so a call looks
/// nothing up), and finalized when the connection closes.
final class SQLiteConnection {
    private var db: OpaquePointer?
    private var statements: [SQLiteStatement] = []

    /// Turns SQLite's memory statistics off before the first connection of the process opens.
    /// With them on, every allocation and free inside SQLite takes a process-wide mutex to
    /// count bytes; TokenJar reads none of those counters. Ignored (SQLITE_MISUSE) when SQLite
    /// was initialized already.
    private static let memoryStatisticsOff: Void = { _ = tokenjar_sqlite3_config_memstatus(0) }()

    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        Self.memoryStatisticsOff
        guard sqlite3_threadsafe() != 0 else {
            throw StoreError.unavailable.with(detail: "the SQLite library was built without thread support")
        }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            sqlite3_close_v2(handle)
            throw storeError(code: code, message: message)
        }
        db = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    deinit { close() }

    private func handle() throws -> OpaquePointer {
        guard let db else { throw StoreError.closed }
        return db
    }

    private func lastError(_ code: Int32) -> StoreError {
        storeError(code: code, message: db.map { String(cString: sqlite3_errmsg($0)) } ?? "closed")
    }

    /// Runs SQL without parameters (pragmas, DDL, transaction control).
    func exec(_ sql: String) throws {
        let db = try handle()
        let code = sqlite3_exec(db, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw lastError(code) }
    }

    /// Prepares one statement for repeated use; it stays valid until the connection closes.
    func prepare(_ sql: String) throws -> SQLiteStatement {
        let db = try handle()
        var stmt: OpaquePointer?
        let code = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard code == SQLITE_OK, let stmt else { throw lastError(code) }
        let statement = SQLiteStatement(handle: stmt, db: db)
        statements.append(statement)
        return statement
    }

    /// The first column of the first row of a pragma (or other parameterless query), as text.
    func scalarText(_ sql: String) throws -> String? {
        let db = try handle()
        var stmt: OpaquePointer?
        let code = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard code == SQLITE_OK, let stmt else { throw lastError(code) }
        defer { sqlite3_finalize(stmt) }
        let step = sqlite3_step(stmt)
        guard step == SQLITE_ROW else {
            if step == SQLITE_DONE { return nil }
            throw lastError(step)
        }
        guard let p = sqlite3_column_text(stmt, 0) else { return nil }
        return String(cString: p)
    }

    /// Whether the connection is outside any transaction.
    var isAutocommit: Bool { db.map { sqlite3_get_autocommit($0) != 0 } ?? true }

    /// Finalizes every statement and closes the connection. Idempotent.
    func close() {
        for statement in statements { statement.finalize() }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }
}
