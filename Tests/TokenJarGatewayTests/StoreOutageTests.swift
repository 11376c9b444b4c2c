import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// A SQLite store that stops answering (a full disk, a broken file system): the gateway answers
/// 503 at once, stays up, and serves again when the store comes back. PostgreSQL outages are
/// tested on a real server in `PostgresGatewayTests`.
@Suite("Store outage")
struct StoreOutageTests {
    @Test("SQLite store failing: 503 store_unavailable within a second, no crash; back: the jar is whole and service resumes")
    func sqliteOutage() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenjar-outage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try SQLiteSessionStore(path: directory.appendingPathComponent("jars.db").path)
        let store = FaultInjectingStore(wrapping: sqlite)
        let backend = try await TestBackend.start(group: testGroup) { req in
            BackendResponse(headers: [("Set-Cookie", "\(req.uri.dropFirst())=1; Path=/")])
        }
        let gateway = try await RunningGateway.start(
            routes: [RouteSpec(upstreams: [upstream(backend.port)])], store: store, configure: { $0.cacheEntries = 0 })
        defer { Task { try? await gateway.stop(); await backend.stop() } }
        func get(_ path: String, _ token: String?) async throws -> ClientResponse {
            try await TestHTTPClient.request(
                group: testGroup, port: gateway.port, path: path, headers: token.map { [("X-Session-Token", $0)] } ?? [])
        }

        let token = try #require(try await get("/before", nil).headers.first(name: "X-Session-Token"))
        store.isFailing = true
        for (path, client) in [("/during", Optional(token)), ("/fresh", nil), ("/during", token)] {
            let start = ContinuousClock.now
            let r = try await get(path, client)
            #expect(r.status == .serviceUnavailable, "\(path)")
            #expect(r.body.contains(#""code":"store_unavailable""#))
            #expect(r.headers.first(name: "X-Session-Token") == nil, "a token for a session that was never stored")
            #expect(ContinuousClock.now - start < .seconds(1))
        }
        store.isFailing = false

        let after = try await get("/after", token)
        #expect(after.status == .ok)
        #expect(after.headers.first(name: "X-Session-Token") == nil, "the session survived the outage")
        #expect(backend.requests.last?.headers.first(name: "cookie") == "before=1", "only what was committed before the outage")
        _ = try await get("/check", token)
        #expect(backend.requests.last?.headers.first(name: "cookie") == "before=1; after=1")
        #expect(try await get("/new", nil).headers.first(name: "X-Session-Token") != nil)
    }
}
