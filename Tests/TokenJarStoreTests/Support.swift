import CSQLite
import Foundation
import Logging
import NIOCore
import NIOPosix
import TokenJarPostgres
import TokenJarStore
import TokenJarTestSupport

/// The stores the behavioural suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory
    case sqlite
    /// The memory store behind `SealingSessionStore`: encryption at rest changes no behaviour.
    case sealed
    /// A PostgreSQL store on a server the tests start (when its binaries are installed).
    case postgres

    /// PostgreSQL only when it can run (or must: TOKENJAR_REQUIRE_EXTERNAL=1).
    static var allCases: [StoreKind] {
        [.memory, .sqlite, .sealed] + (PostgresServer.enabled ? [.postgres] : [])
    }

    var description: String { rawValue }
}

/// Event loops shared by the tests, so futures complete on real NIO threads.
let testLoops = MultiThreadedEventLoopGroup(numberOfThreads: 4)

/// A fresh directory under the system's temporary directory; removed by `removeTemporaryDirectory`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tokenjar-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeTemporaryDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// Runs `body` with a new, empty store of `kind` and shuts it down afterwards.
func withStore<R>(
    _ kind: StoreKind, options: SQLiteStoreOptions = SQLiteStoreOptions(),
    _ body: (any SessionStore) async throws -> R
) async throws -> R {
    let directory = try makeTemporaryDirectory()
    defer { removeTemporaryDirectory(directory) }
    let (store, release) = try await openStore(kind, in: directory, options: options)
    do {
        let result = try await body(store)
        try await store.shutdown()
        await release()
        return result
    } catch {
        try? await store.shutdown()
        await release()
        throw error
    }
}

/// A new, empty store of `kind` (files in `directory`), and what to call once it is shut down.
func openStore(
    _ kind: StoreKind, in directory: URL, options: SQLiteStoreOptions = SQLiteStoreOptions()
) async throws -> (any SessionStore, release: @Sendable () async -> Void) {
    switch kind {
    case .memory:
        return (MemorySessionStore(), {})
    case .sqlite:
        let path = directory.appendingPathComponent("sessions.db").path
        return (try SQLiteSessionStore(path: path, options: options), {})
    case .sealed:
        return (SealingSessionStore(wrapping: MemorySessionStore(), keyring: .ephemeral()), {})
    case .postgres:
        let server = try await SharedPostgres.shared.acquire()
        do {
            let database = try await server.createDatabase()
            let store = try await PostgresSessionStore.open(postgresOptions(server, database), logger: quietLogger)
            return (store, { await SharedPostgres.shared.release() })
        } catch {
            await SharedPostgres.shared.release()
            throw error
        }
    }
}

/// A deterministic token hash: `n` spread over the first bytes, so hashes sort by `n`.
func hash(_ n: Int, fill: UInt8 = 0xab) -> TokenHash {
    var bytes = [UInt8](repeating: fill, count: 32)
    bytes[0] = UInt8(truncatingIfNeeded: n >> 8)
    bytes[1] = UInt8(truncatingIfNeeded: n)
    return TokenHash(bytes: bytes)!
}

func cookie(_ name: String, _ value: String = "v", domain: String = "example.com", path: String = "/",
            expiresAt: Int64? = nil) -> CookieRecord {
    CookieRecord(name: name, domain: domain, path: path, expiresAt: expiresAt, payload: Array("\(name)=\(value)".utf8))
}

func session(_ hash: TokenHash, at time: Int64 = 1_000, lifetime: Int64 = 1_000, identity: SessionIdentity? = nil,
             cookies: [CookieRecord] = []) -> SessionRecord {
    SessionRecord(tokenHash: hash, createdAt: time, lastSeenAt: time, expiresAt: time + lifetime,
                  identity: identity, cookies: cookies)
}

extension SessionStore {
    var loop: any EventLoop { testLoops.next() }

    func create(_ record: SessionRecord) async throws {
        try await write(SessionWrite(tokenHash: record.tokenHash, create: record), on: loop).get()
    }

    func apply(_ write: SessionWrite) async throws {
        try await self.write(write, on: loop).get()
    }

    func load(_ hash: TokenHash, now: Int64) async throws -> SessionRecord? {
        try await load(hash, now: now, on: loop).get()
    }
}

/// An independent connection through the C API, as another process would open the file.
final class RawSQLite {
    private var db: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            sqlite3_close(db)
            throw StoreError.unavailable
        }
    }

    deinit { sqlite3_close(db) }

    /// The first column of every row, as text; `blob` binds the first parameter when given.
    func column(_ sql: String, blob: [UInt8]? = nil) throws -> [String?] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw StoreError.failed.with(detail: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(stmt) }
        if let blob {
            _ = blob.withUnsafeBytes {
                sqlite3_bind_blob(stmt, 1, $0.baseAddress, Int32($0.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
        }
        var rows: [String?] = []
        while true {
            let code = sqlite3_step(stmt)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw StoreError.failed.with(detail: String(cString: sqlite3_errmsg(db))) }
            rows.append(sqlite3_column_text(stmt, 0).map { String(cString: $0) })
        }
    }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw StoreError.failed.with(detail: String(cString: sqlite3_errmsg(db)))
        }
    }
}
