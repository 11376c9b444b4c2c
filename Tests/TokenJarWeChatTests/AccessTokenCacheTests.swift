import Logging
import NIOConcurrencyHelpers
import Testing
import TokenJarStore
@testable import TokenJarWeChat

/// The access-token cache alone, with a scripted fetch and an explicit clock.
@Suite("Access token cache")
struct AccessTokenCacheTests {
    /// A fetch that counts its calls, answers `TOKEN-n` valid for `lifetime` seconds, and fails
    /// while `failing` is set.
    final class Fetcher: Sendable {
        let count = NIOLockedValueBox(0)
        let failing = NIOLockedValueBox(false)
        let lifetime: Int64
        let delay: UInt64
        let prefix: String

        init(prefix: String = "TOKEN", lifetime: Int64 = 7200, delayMilliseconds: UInt64 = 0) {
            self.prefix = prefix
            self.lifetime = lifetime
            self.delay = delayMilliseconds * 1_000_000
        }

        var calls: Int { count.withLockedValue { $0 } }

        func cache(key: String = "wechat.access_token.wxtest") -> AccessTokenCache {
            AccessTokenCache(key: key, refreshAhead: 300, logger: Logger(label: "test")) { now async throws(WeChatError) in
                try? await Task.sleep(nanoseconds: self.delay)
                if self.failing.withLockedValue({ $0 }) { throw WeChatError.unreachable }
                let n = self.count.withLockedValue { $0 += 1; return $0 }
                return AccessTokenCache.Token(value: "\(self.prefix)-\(n)", expiresAt: now + self.lifetime)
            }
        }
    }

    @Test("a token is reused until refreshAhead before its expiry, then replaced")
    func refreshAhead() async throws {
        let store = MemorySessionStore()
        let fetcher = Fetcher()
        let cache = fetcher.cache()
        #expect(try await cache.token(store: store, now: 1_000) == "TOKEN-1")
        #expect(try await cache.token(store: store, now: 1_000 + 7200 - 301) == "TOKEN-1")
        #expect(fetcher.calls == 1)
        #expect(try await cache.token(store: store, now: 1_000 + 7200 - 300) == "TOKEN-2")
        #expect(fetcher.calls == 2)
        #expect(try await store.sharedValue("wechat.access_token.wxtest")?.value == Array("TOKEN-2".utf8))
        try await store.shutdown()
    }

    @Test("a failed refresh keeps a token that is still valid; without one it fails")
    func failedRefresh() async throws {
        let store = MemorySessionStore()
        let fetcher = Fetcher()
        let cache = fetcher.cache()
        #expect(try await cache.token(store: store, now: 0) == "TOKEN-1")
        fetcher.failing.withLockedValue { $0 = true }
        #expect(try await cache.token(store: store, now: 7000) == "TOKEN-1", "due, still valid: kept")
        await #expect(throws: WeChatError.unreachable) { try await cache.token(store: store, now: 7200) }
        fetcher.failing.withLockedValue { $0 = false }
        #expect(try await cache.token(store: store, now: 7200) == "TOKEN-2")
        try await store.shutdown()
    }

    @Test("another instance on the same store adopts the shared token without fetching")
    func sharedAcrossInstances() async throws {
        let store = MemorySessionStore()
        let first = Fetcher(prefix: "A")
        let second = Fetcher(prefix: "B")
        #expect(try await first.cache().token(store: store, now: 100) == "A-1")
        let other = second.cache()
        #expect(try await other.token(store: store, now: 200) == "A-1")
        #expect(second.calls == 0)
        // Once the shared token is due, the second instance fetches and shares its own.
        #expect(try await other.token(store: store, now: 100 + 7200 - 300) == "B-1")
        #expect(second.calls == 1)
        #expect(try await store.sharedValue("wechat.access_token.wxtest")?.value == Array("B-1".utf8))
        #expect(try await first.cache().token(store: store, now: 7100) == "B-1")
        #expect(first.calls == 1)
        try await store.shutdown()
    }

    @Test("concurrent callers wait for one fetch")
    func singleFlight() async throws {
        let store = MemorySessionStore()
        let fetcher = Fetcher(delayMilliseconds: 200)
        let cache = fetcher.cache()
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.token(store: store, now: 10) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(tokens == Array(repeating: "TOKEN-1", count: 20))
        #expect(fetcher.calls == 1)
        try await store.shutdown()
    }

    @Test("a refused token is never adopted again, not even from the store")
    func invalidate() async throws {
        let store = MemorySessionStore()
        let fetcher = Fetcher()
        let cache = fetcher.cache()
        #expect(try await cache.token(store: store, now: 0) == "TOKEN-1")
        await cache.invalidate("TOKEN-1")
        #expect(try await cache.token(store: store, now: 1) == "TOKEN-2")
        #expect(fetcher.calls == 2)
        try await store.shutdown()
    }
}
