import Foundation
import Logging

/// Which store to use, as given to `--store`:
///
/// - `memory`: `MemorySessionStore`, nothing survives a restart;
/// - `sqlite:PATH`: `SQLiteSessionStore` at PATH, relative to the working directory or absolute
///   (`sqlite:///var/lib/tokenjar/sessions.db` is accepted too); the directory is created;
/// - `postgres://...` (or `postgresql://...`): a shared PostgreSQL store, not in this build.
public enum StoreSpec: Hashable, Sendable, CustomStringConvertible {
    case memory
    case sqlite(path: String)
    case postgres(url: String)

    public init(parsing text: String) throws {
        let spec = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        let lower = spec.lowercased()
        if lower == "memory" || lower == "memory:" {
            self = .memory
        } else if lower.hasPrefix("sqlite:") {
            var path = spec.dropFirst("sqlite:".count)
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty, !path.contains("\0") else {
                throw StoreError.invalidSpec.with(detail: "sqlite needs a path, as in sqlite:data/sessions.db")
            }
            self = .sqlite(path: String(path))
        } else if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            self = .postgres(url: String(spec))
        } else {
            throw StoreError.invalidSpec.with(detail: "expected memory, sqlite:PATH or postgres://...")
        }
    }

    /// The specification with any password replaced, for logs.
    public var description: String {
        switch self {
        case .memory: return "memory"
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url): return Self.redacted(url)
        }
    }

    /// Opens the store. A SQLite store opens and migrates its file here (blocking: call this at
    /// startup). PostgreSQL fails with `StoreError.notSupported` in this build.
    public func makeStore(
        sqliteOptions: SQLiteStoreOptions = SQLiteStoreOptions(),
        logger: Logger = Logger(label: "tokenjar.store")
    ) throws -> any SessionStore {
        switch self {
        case .memory:
            return MemorySessionStore()
        case .sqlite(let path):
            return try SQLiteSessionStore(path: path, options: sqliteOptions, logger: logger)
        case .postgres:
            throw StoreError.notSupported.with(detail: "this build has no PostgreSQL store; use sqlite:PATH")
        }
    }

    /// `scheme://user:secret@host/db` becomes `scheme://user:***@host/db`.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
