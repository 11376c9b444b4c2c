#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore

/// Whom a mint is charged to: an IPv4 address, or the /64 prefix of an IPv6 address (one
/// subscriber usually holds a whole /64, so single IPv6 addresses would be free to rotate).
struct ClientAddressKey: Hashable, Sendable {
    var isIPv6: Bool
    var bits: UInt64

    /// The key of a peer; nil for an address that is not IP (a Unix socket), never limited.
    init?(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4):
            isIPv6 = false
            bits = UInt64(UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                isIPv6 = false
                bits = bytes[12..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            } else {
                isIPv6 = true
                bits = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
        default:
            return nil
        }
    }
}

/// A token bucket of session mints per client address, in a table of bounded size.
///
/// Each address may mint `burst` sessions at once and `perMinute` on average. The table is
/// sharded (short, rarely contended lock holds across event loops); a shard over its share of
/// the capacity first forgets buckets that have refilled (they hold no information), then its
/// least recently used tenth. Memory stays bounded whatever the number of addresses; an
/// attacker with more addresses than the table holds can only make the limiter forget, which
/// lets that many addresses mint at their burst, not more.
final class MintRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
    }

    private struct Shard {
        var buckets: [ClientAddressKey: Bucket] = [:]
    }

    let perSecond: Double
    let burst: Double
    private let shards: [NIOLockedValueBox<Shard>]
    private let shardCapacity: Int

    /// nil when `perMinute` is 0 (no limit).
    init?(perMinute: Int, burst: Int, capacity: Int = 65_536, shardCount: Int = 16) {
        guard perMinute > 0 else { return nil }
        self.perSecond = Double(perMinute) / 60
        self.burst = Double(max(1, burst))
        self.shards = (0..<max(1, shardCount)).map { _ in NIOLockedValueBox(Shard()) }
        self.shardCapacity = max(1, capacity / max(1, shardCount))
    }

    /// Takes one mint for `key` at `nowNanos` (a monotonic clock). nil when the mint is allowed;
    /// otherwise the whole seconds until one would be (for Retry-After), and nothing is taken.
    func take(_ key: ClientAddressKey, nowNanos: UInt64) -> Int? {
        let capacity = shardCapacity
        let perSecond = self.perSecond
        let burst = self.burst
        return shards[Int(truncatingIfNeeded: key.bits % UInt64(shards.count))].withLockedValue { shard in
            var bucket = shard.buckets[key] ?? Bucket(tokens: burst, updatedNanos: nowNanos)
            let elapsed = Double(nowNanos &- min(nowNanos, bucket.updatedNanos)) / 1e9
            bucket.tokens = min(burst, bucket.tokens + elapsed * perSecond)
            bucket.updatedNanos = nowNanos
            let wait: Int?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
            }
            shard.buckets[key] = bucket
            if shard.buckets.count > capacity { Self.evict(&shard, capacity: capacity, nowNanos: nowNanos, perSecond: perSecond, burst: burst) }
            return wait
        }
    }

    /// Addresses with a bucket now (for tests and metrics).
    var trackedAddresses: Int { shards.reduce(0) { $0 + $1.withLockedValue { $0.buckets.count } } }

    private static func evict(_ shard: inout Shard, capacity: Int, nowNanos: UInt64, perSecond: Double, burst: Double) {
        shard.buckets = shard.buckets.filter { _, bucket in
            let elapsed = Double(nowNanos &- min(nowNanos, bucket.updatedNanos)) / 1e9
            return bucket.tokens + elapsed * perSecond < burst
        }
        guard shard.buckets.count > capacity else { return }
        let drop = shard.buckets.count - capacity + max(1, capacity / 10)
        let oldest = shard.buckets.sorted { $0.value.updatedNanos < $1.value.updatedNanos }.prefix(drop)
        for (key, _) in oldest { shard.buckets.removeValue(forKey: key) }
    }
}
