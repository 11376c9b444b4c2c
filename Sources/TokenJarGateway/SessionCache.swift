import CookieEngine
import NIOConcurrencyHelpers
import TokenJarStore

/// What the gateway knows about one live session.
struct SessionState: Sendable {
    var createdAt: Int64
    var lastSeenAt: Int64
    var expiresAt: Int64
    var identity: SessionIdentity?
    var jar: CookieJar
}

/// A bounded, sharded, write-through cache of sessions and their decoded jars.
///
/// Used only with exclusive stores (this process is the only writer), so it can never be stale:
/// every change goes through it before it goes to the store. Shards keep lock hold times short
/// and uncontended across event loops; a shard over its share of the capacity drops its least
/// recently used tenth.
final class SessionCache: Sendable {
    private struct Entry {
        /// Never nil at rest: it is nil only while `withSession` has the state out, so that
        /// the jar it mutates is uniquely referenced and changes in place (no copy on write).
        var state: SessionState?
        var lastUsed: UInt64
    }

    private struct Shard {
        var entries: [TokenHash: Entry] = [:]
        var tick: UInt64 = 0
    }

    private let shards: [NIOLockedValueBox<Shard>]
    private let shardCapacity: Int

    init(capacity: Int, shardCount: Int = 64) {
        self.shards = (0..<shardCount).map { _ in NIOLockedValueBox(Shard()) }
        self.shardCapacity = max(1, capacity / shardCount)
    }

    private func shard(_ hash: TokenHash) -> NIOLockedValueBox<Shard> {
        shards[Int(hash.bytes[0]) % shards.count]
    }

    /// Runs `body` on the cached state of a session (nil when not cached). Setting it to nil
    /// removes the entry; setting a value inserts or replaces it. The state is moved out of its
    /// entry for the call, so a jar mutated in `body` is not copied.
    func withSession<R>(_ hash: TokenHash, _ body: (inout SessionState?) throws -> R) rethrows -> R {
        let capacity = shardCapacity
        return try shard(hash).withLockedValue { shard in
            shard.tick &+= 1
            if let index = shard.entries.index(forKey: hash) {
                var state: SessionState? = nil
                swap(&state, &shard.entries.values[index].state)
                defer {
                    if state == nil {
                        shard.entries.remove(at: index)
                    } else {
                        swap(&state, &shard.entries.values[index].state)
                        shard.entries.values[index].lastUsed = shard.tick
                    }
                }
                return try body(&state)
            }
            var state: SessionState? = nil
            let result = try body(&state)
            if let state {
                shard.entries[hash] = Entry(state: state, lastUsed: shard.tick)
                if shard.entries.count > capacity { Self.evict(&shard, keeping: capacity) }
            }
            return result
        }
    }

    /// Forgets a session (after a failed write, a revoke or a sweep).
    func remove(_ hash: TokenHash) {
        _ = shard(hash).withLockedValue { $0.entries.removeValue(forKey: hash) }
    }

    /// Forgets every session whose hash matches.
    func removeAll(where predicate: (TokenHash, SessionState) -> Bool) {
        for shard in shards {
            shard.withLockedValue { shard in
                shard.entries = shard.entries.filter { entry in entry.value.state.map { !predicate(entry.key, $0) } ?? false }
            }
        }
    }

    var count: Int { shards.reduce(0) { $0 + $1.withLockedValue { $0.entries.count } } }

    private static func evict(_ shard: inout Shard, keeping capacity: Int) {
        let drop = max(1, shard.entries.count - capacity + capacity / 10)
        let oldest = shard.entries.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(drop)
        for (key, _) in oldest { shard.entries.removeValue(forKey: key) }
    }
}
