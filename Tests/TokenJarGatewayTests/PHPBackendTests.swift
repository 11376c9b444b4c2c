import Foundation
import Logging
import NIOCore
import Testing
import TokenJarStore
@testable import TokenJarGateway

/// A real PHP backend (`php -S` with `session_start()`) behind the gateway: the client sends
/// only the token header and the PHP session carries on.
@Suite("PHP backend", .enabled(if: External.enabled("php"), "php-cli is not installed; scripts/test installs it"))
struct PHPBackendTests {
    struct Count: Decodable {
        var count: Int
        var sid: String
    }

    static func get(_ port: Int, _ path: String, token: String?) async throws -> ClientResponse {
        try await TestHTTPClient.request(
            group: testGroup, port: port, path: path, headers: token.map { [("X-Session-Token", $0)] } ?? [])
    }

    static func count(_ response: ClientResponse) throws -> Count {
        try JSONDecoder().decode(Count.self, from: Data(response.body.utf8))
    }

    @Test("the PHP session counter goes up across requests that carry only the token")
    func counter() async throws {
        try await withPHPServer { php in
            let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(php.port)])])
            defer { Task { try? await gateway.stop() } }

            let first = try await Self.get(gateway.port, "/", token: nil)
            let token = try #require(first.headers.first(name: "X-Session-Token"))
            #expect(try Self.count(first).count == 1)
            var sid = try Self.count(first).sid
            for expected in 2...5 {
                let r = try await Self.get(gateway.port, "/", token: token)
                let c = try Self.count(r)
                #expect(c.count == expected)
                #expect(c.sid == sid)
                sid = c.sid
            }
        }
    }

    @Test("the session survives a gateway restart on the same SQLite file")
    func restart() async throws {
        try await withPHPServer { php in
            let dir = try External.temporaryDirectory("sqlite")
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("jars.db").path

            let first = try await RunningGateway.start(
                routes: [RouteSpec(upstreams: [upstream(php.port)])],
                store: try SQLiteSessionStore(path: path, logger: Logger(label: "test")))
            let r1 = try await Self.get(first.port, "/", token: nil)
            let token = try #require(r1.headers.first(name: "X-Session-Token"))
            _ = try await Self.get(first.port, "/", token: token)
            try await first.stop()

            let second = try await RunningGateway.start(
                routes: [RouteSpec(upstreams: [upstream(php.port)])],
                store: try SQLiteSessionStore(path: path, logger: Logger(label: "test")))
            defer { Task { try? await second.stop() } }
            let r3 = try await Self.get(second.port, "/", token: token)
            #expect(r3.headers.first(name: "X-Session-Token") == nil, "the token is still known")
            #expect(try Self.count(r3).count == 3)
            #expect(try Self.count(r3).sid == Self.count(r1).sid)
        }
    }

    @Test("logout expires PHPSESSID, so the next request starts a new backend session")
    func logout() async throws {
        try await withPHPServer { php in
            let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(php.port)])])
            defer { Task { try? await gateway.stop() } }
            let r1 = try await Self.get(gateway.port, "/", token: nil)
            let token = try #require(r1.headers.first(name: "X-Session-Token"))
            _ = try await Self.get(gateway.port, "/", token: token)
            let out = try await Self.get(gateway.port, "/logout", token: token)
            #expect(out.body.contains("logged_out"))
            let after = try await Self.get(gateway.port, "/", token: token)
            #expect(try Self.count(after).count == 1)
            #expect(try Self.count(after).sid != Self.count(r1).sid)
        }
    }
}
