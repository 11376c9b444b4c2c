import CSQLite

/// A value bound to a statement parameter.
enum SQLiteValue {
    case int(Int64)
    case text(String)
    case blob([UInt8])
    case null

    static func int(_ value: Int64?) -> SQLiteValue { value.map { .int($0) } ?? .null }
    static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    static func blob(_ value: [UInt8]?) -> SQLiteValue { value.map { .blob($0) } ?? .null }
}

/// Makes SQLite copy a bound value (used for the empty string only; see `bind`).
private var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

/// SQLITE_CONSTRAINT_FOREIGNKEY, an extended result code.
private let foreignKeyViolation: Int32 = SQLITE_CONSTRAINT | (3 << 8)

/// Maps an SQLite result code to a `StoreError`. SQLite's messages name tables and columns,
/// never bound values, so they are safe as detail.
///
/// A foreign key violation is `sessionNotFound`: the schema's only foreign key is a cookie's
/// session, so it means a cookie was written for a session that does not exist.
func storeError(code: Int32, message: String) -> StoreError {
    if code == foreignKeyViolation { return .sessionNotFound }
    let base: StoreError
    switch code & 0xff {
    case SQLITE_CORRUPT, SQLITE_NOTADB: base = .corrupt
    case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY,
        SQLITE_PERM, SQLITE_NOMEM, SQLITE_PROTOCOL, SQLITE_AUTH:
        base = .unavailable
    default: base = .failed
    }
    return base.with(detail: "\(message) (sqlite code \(code))")
}

/// One prepared statement, prepared once and reused: bind, step, read columns, reset.
/// Confined to the thread of its connection.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private let db: OpaquePointer
    /// The bytes of this run's text and blob values. They are bound with SQLITE_STATIC, so
    /// SQLite reads them here instead of allocating a copy of each; the buffer changes only
    /// when the next run binds anew (a statement is never stepped with the previous run's
    /// bindings), and grows, never shrinks.
    private var boundBytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    init(handle: OpaquePointer, db: OpaquePointer) {
        self.handle = handle
        self.db = db
    }

    deinit { boundBytes.deallocate() }

    func finalize() { sqlite3_finalize(handle) }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw storeError(code: code, message: String(cString: sqlite3_errmsg(db))) }
    }

    /// Room for `count` bytes of bound values. Only called before binding.
    private func reserveBoundBytes(_ count: Int) {
        guard count > boundBytes.count else { return }
        boundBytes.deallocate()
        boundBytes = .allocate(byteCount: max(count, 2 * boundBytes.count, 256), alignment: 8)
    }

    private func bind(_ values: [SQLiteValue]) throws {
        assert(values.count == Int(sqlite3_bind_parameter_count(handle)), "every parameter is bound on every run")
        var needed = 0
        for value in values {
            switch value {
            case .text(let s): needed += s.utf8.count
            case .blob(let bytes): needed += bytes.count
            case .int, .null: break
            }
        }
        reserveBoundBytes(needed)
        var used = 0
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null:
                try check(sqlite3_bind_null(handle, index))
            case .int(let v):
                try check(sqlite3_bind_int64(handle, index, v))
            case .blob(let bytes):
                if bytes.isEmpty {
                    try check(sqlite3_bind_zeroblob(handle, index, 0))
                } else {
                    let target = UnsafeMutableRawBufferPointer(rebasing: boundBytes[used..<(used + bytes.count)])
                    bytes.withUnsafeBytes { target.copyMemory(from: $0) }
                    used += bytes.count
                    try check(sqlite3_bind_blob(handle, index, target.baseAddress, Int32(bytes.count), nil))
                }
            case .text(var s):
                if s.isEmpty {
                    try check(sqlite3_bind_text(handle, index, "", 0, transient))
                } else {
                    let count = s.utf8.count
                    let target = UnsafeMutableRawBufferPointer(rebasing: boundBytes[used..<(used + count)])
                    s.withUTF8 { target.copyMemory(from: UnsafeRawBufferPointer($0)) }
                    used += count
                    let chars = target.baseAddress!.bindMemory(to: CChar.self, capacity: count)
                    try check(sqlite3_bind_text(handle, index, chars, Int32(count), nil))
                }
            }
        }
    }

    /// Advances; true when a row is available.
    private func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw storeError(code: code, message: String(cString: sqlite3_errmsg(db)))
        }
    }

    /// Ready for the next run. Bindings are not cleared: every run binds every parameter
    /// again (checked in `bind`), and each new binding releases the old value.
    private func reset() {
        sqlite3_reset(handle)
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    func run(_ values: SQLiteValue...) throws -> Int { try run(values) }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    func run(_ values: [SQLiteValue]) throws -> Int {
        defer { reset() }
        try bind(values)
        while try step() {}
        return Int(sqlite3_changes(db))
    }

    /// Runs a query and maps every row. The statement is reset afterwards, so no read
    /// transaction stays open.
    func query<T>(_ values: SQLiteValue..., row: (SQLiteStatement) throws -> T) throws -> [T] {
        defer { reset() }
        try bind(values)
        var rows: [T] = []
        while try step() { rows.append(try row(self)) }
        return rows
    }

    /// Runs a query and maps its first row, if any.
    func queryFirst<T>(_ values: SQLiteValue..., row: (SQLiteStatement) throws -> T) throws -> T? {
        defer { reset() }
        try bind(values)
        return try step() ? try row(self) : nil
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func blob(_ column: Int32) -> [UInt8] {
        guard let p = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: p, count: count))
    }

    func optionalBlob(_ column: Int32) -> [UInt8]? { isNull(column) ? nil : blob(column) }
}
