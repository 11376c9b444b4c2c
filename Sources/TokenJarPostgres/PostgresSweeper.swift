import Logging
import PostgresNIO
import TokenJarStore

/// Removes expired sessions and cookies, on one instance at a time.
///
/// Every instance's gateway calls `sweep` on its own timer. The first to take the session-level
/// advisory lock (`pg_try_advisory_lock`, which never waits) sweeps; the others find it taken and
/// return 0 at once. The lock goes with the connection, so an instance that dies mid-sweep frees
/// it. Rows go in bounded batches, each its own short statement, skipping rows a data-plane write
/// holds (`SKIP LOCKED`), so a large sweep never stalls requests.
enum PostgresSweeper {
    /// Sessions removed, or nil when another instance holds the sweep lock.
    static func sweep(now: Int64, batch: Int, _ db: PostgresConnection, _ logger: Logger) async throws -> Int? {
        var locked = false
        for try await got in try await db.query(
            "SELECT pg_try_advisory_lock(\(PostgresMigrations.sweepLockKey))", logger: logger
        ).decode(Bool.self) {
            locked = got
        }
        guard locked else { return nil }
        do {
            let removed = try await sweepLocked(now: now, batch: batch, db, logger)
            try await unlock(db, logger)
            return removed
        } catch {
            // Never hand a connection that may still hold the lock back to the pool.
            do { try await unlock(db, logger) } catch { try? await db.close() }
            throw error
        }
    }

    private static func sweepLocked(now: Int64, batch: Int, _ db: PostgresConnection, _ logger: Logger)
        async throws -> Int
    {
        let size = max(1, batch)
        let limit = Int64(size)
        var sessions = 0
        while true {
            let removed = try await db.count("""
                DELETE FROM tokenjar_sessions WHERE token_hash IN (
                    SELECT token_hash FROM tokenjar_sessions WHERE expires_at < \(now)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """, logger: logger)
            sessions += removed
            if removed < size { break }
        }
        while true {
            let removed = try await db.count("""
                DELETE FROM tokenjar_cookies WHERE (token_hash, name, domain, path) IN (
                    SELECT token_hash, name, domain, path FROM tokenjar_cookies WHERE expires_at < \(now)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """, logger: logger)
            if removed < size { break }
        }
        return sessions
    }

    private static func unlock(_ db: PostgresConnection, _ logger: Logger) async throws {
        try await db.query("SELECT pg_advisory_unlock(\(PostgresMigrations.sweepLockKey))", logger: logger)
    }
}
