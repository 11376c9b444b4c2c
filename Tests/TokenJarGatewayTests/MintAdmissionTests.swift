import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// What stops a client filling the store with empty sessions: the mint rate per client address
/// and the cap on stored sessions.
@Suite("Mint rate limit and session cap")
struct MintAdmissionTests {
    @Test("over the mint rate: 429 mint_rate_limited with Retry-After; requests with a token are not limited")
    func mintRateLimited() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])]) {
            // One mint a minute after the burst: no refill while the test runs, however slow.
            $0.mintRatePerMinute = 1
            $0.mintBurst = 3
        }
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        var tokens: [String] = []
        for _ in 0..<3 {
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
            #expect(r.status == .ok)
            tokens.append(try #require(r.headers.first(name: "X-Session-Token")))
        }
        let limited = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(limited.status == .tooManyRequests)
        #expect(limited.body.contains(#""code":"mint_rate_limited""#))
        let retryAfter = try #require(limited.headers.first(name: "Retry-After").flatMap { Int($0) })
        #expect((50...60).contains(retryAfter), "the next mint is about a minute away: \(retryAfter)")
        #expect(limited.headers.first(name: "X-Session-Token") == nil)
        // A malformed or unknown token is no way around it.
        let unknown = try await TestHTTPClient.request(
            group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", SessionToken.mint())])
        #expect(unknown.status == .tooManyRequests)
        #expect(backend.requests.count == 3)

        for token in tokens {
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/", headers: [("X-Session-Token", token)])
            #expect(r.status == .ok, "an existing session was limited")
        }
    }

    @Test("the bucket refills at the configured rate")
    func refill() throws {
        let limiter = try #require(MintRateLimiter(perMinute: 60, burst: 3))
        let key = try #require(ClientAddressKey(try SocketAddress(ipAddress: "192.0.2.7", port: 1)))
        let start: UInt64 = 1_000_000_000
        for _ in 0..<3 { #expect(limiter.take(key, nowNanos: start) == nil) }
        #expect(limiter.take(key, nowNanos: start) == 1, "empty: one mint a second comes back")
        #expect(limiter.take(key, nowNanos: start + 500_000_000) != nil, "half a token is not a mint")
        #expect(limiter.take(key, nowNanos: start + 1_100_000_000) == nil, "one second later: one mint")
        #expect(limiter.take(key, nowNanos: start + 1_100_000_000) != nil)
    }

    @Test("the limiter's table stays bounded whatever the number of addresses")
    func limiterBounded() throws {
        let limiter = try #require(MintRateLimiter(perMinute: 1, burst: 1, capacity: 64, shardCount: 4))
        for n in 0..<10_000 {
            let address = try SocketAddress(ipAddress: "10.\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)", port: 1)
            let key = try #require(ClientAddressKey(address))
            #expect(limiter.take(key, nowNanos: UInt64(n)) == nil)
        }
        #expect(limiter.trackedAddresses <= 64)
        // One IPv6 /64 is one client; IPv4-mapped addresses are their IPv4 address.
        let a = try #require(ClientAddressKey(try SocketAddress(ipAddress: "2001:db8:1:2::1", port: 1)))
        let b = try #require(ClientAddressKey(try SocketAddress(ipAddress: "2001:db8:1:2:ffff::9", port: 1)))
        let c = try #require(ClientAddressKey(try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 1)))
        #expect(a == b && a != c)
        let mapped = try #require(ClientAddressKey(try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 1)))
        #expect(mapped == ClientAddressKey(try SocketAddress(ipAddress: "192.0.2.7", port: 1)))
        // The bucket refills at the configured rate: one a minute here.
        let fresh = try #require(MintRateLimiter(perMinute: 1, burst: 1))
        #expect(fresh.take(a, nowNanos: 0) == nil)
        #expect((59...60).contains(fresh.take(a, nowNanos: 1_000_000_000) ?? 0))
        #expect(fresh.take(a, nowNanos: 61_000_000_000) == nil)
        #expect(MintRateLimiter(perMinute: 0, burst: 5) == nil)
    }

    @Test("at max_sessions a mint evicts the least recently seen idle anonymous session; with none to evict it is refused with 503")
    func sessionCap() async throws {
        let backend = try await TestBackend.start(group: testGroup) { req in
            BackendResponse(headers: [("Set-Cookie", "seen=\(req.uri.dropFirst()); Path=/")])
        }
        let clock = ManualGatewayClock(seconds: 1_800_000_000)
        let store = MemorySessionStore()
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], store: store,
            configure: { $0.maxSessions = 3 }, clock: clock)
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        func mint(_ path: String) async throws -> (HTTPResponseStatus, String?, String) {
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: path)
            return (r.status, r.headers.first(name: "X-Session-Token"), r.body)
        }
        func stored(_ token: String) async throws -> Bool {
            try await store.load(SessionToken.hash(token), now: clock.nowSeconds(), on: testGroup.any()).get() != nil
        }

        let s1 = try #require(try await mint("/s1").1)
        clock.advance(seconds: 1)
        let s2 = try #require(try await mint("/s2").1)
        clock.advance(seconds: 1)
        let s3 = try #require(try await mint("/s3").1)
        // s1 comes back later: it is now the most recently seen.
        clock.advance(seconds: 100)
        let again = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/back", headers: [("X-Session-Token", s1)])
        #expect(again.status == .ok)

        // A fourth mint makes room by evicting s2, the least recently seen.
        let s4 = try await mint("/s4")
        #expect(s4.0 == .ok)
        #expect(try await stored(s1))
        #expect(try await !stored(s2), "the least recently seen anonymous session was not evicted")
        #expect(try await stored(s3))
        // An evicted session is gone from the gateway's cache too: its token carries nothing now.
        _ = s2

        // A fifth evicts s3; then everything left was seen this second (not idle): refused.
        #expect(try await mint("/s5").0 == .ok)
        #expect(try await !stored(s3))
        let refused = try await mint("/s6")
        #expect(refused.0 == .serviceUnavailable)
        #expect(refused.2.contains(#""code":"session_limit_reached""#))
        #expect(refused.1 == nil)
        #expect(try await store.stats().sessions == 3)

        // The evicted token starts over once there is room again: no cookie of its old jar.
        clock.advance(seconds: 10)
        let back = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/s2-again", headers: [("X-Session-Token", s2)])
        #expect(back.status == .ok)
        #expect(back.headers.first(name: "X-Session-Token") != nil, "an evicted token was still served")
        #expect(backend.requests.last?.headers.first(name: "cookie") == nil)
    }

    @Test("logged-in sessions are never evicted to make room")
    func loggedInStay() async throws {
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse() }
        let clock = ManualGatewayClock(seconds: 1_800_000_000)
        let store = MemorySessionStore()
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], store: store,
            configure: {
                $0.maxSessions = 2
                // Logins are counted when the estimate is refreshed from the store, after each sweep.
                $0.sweepInterval = .milliseconds(100)
            },
            endpoints: EndpointHookTests.FixedLogin(), clock: clock)
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        var loggedIn: [String] = []
        for user in ["alice", "bob"] {
            let r = try await TestHTTPClient.request(group: testGroup, port: gateway.port, method: .POST, path: "/_tokenjar/login", body: user)
            loggedIn.append(try #require(r.headers.first(name: "X-Session-Token")))
        }
        clock.advance(seconds: 1_000)
        try await Task.sleep(for: .milliseconds(400))
        let refused = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.body.contains(#""code":"session_limit_reached""#))
        for token in loggedIn {
            #expect(try await store.load(SessionToken.hash(token), now: clock.nowSeconds(), on: testGroup.any()).get()?.identity != nil)
        }
    }
}
