import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

/// Two real `tokenjar serve` processes on one PostgreSQL database that the test starts: one jar
/// per token whichever instance a request reaches, nothing lost to concurrency or a crash, 503
/// while the database is away and service back without a restart.
@Suite(
    "Gateways sharing PostgreSQL", .serialized,
    .enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresGatewayTests {
    static let key = Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()
    static let patient = ["TOKENJAR_STORE_POSTGRES_ACQUIRE_TIMEOUT": "3s"]

    /// A backend that sets the cookie `/set?n=NAME&v=VALUE` names (or expires it, `/del?n=NAME`)
    /// and answers with the Cookie header it received.
    static func cookieBackend() async throws -> TestBackend {
        try await TestBackend.start(group: testGroup) { request in
            let url = URLComponents(string: request.uri)
            let query = Dictionary((url?.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { a, _ in a }
            var headers: [(String, String)] = []
            switch url?.path {
            case "/set": headers.append(("Set-Cookie", "\(query["n"] ?? "x")=\(query["v"] ?? ""); Path=/"))
            case "/del": headers.append(("Set-Cookie", "\(query["n"] ?? "x")=; Max-Age=0; Path=/"))
            default: break
            }
            return BackendResponse(headers: headers, body: request.headers["Cookie"].joined(separator: "; "))
        }
    }

    /// A database, a backend and `count` gateways on it; everything is stopped afterwards.
    func withGateways(
        _ count: Int = 2, environment: [String: String] = [:],
        _ body: (PostgresServer, String, [GatewayProcess]) async throws -> Void
    ) async throws {
        try await withPostgresServer { server in
            let database = try await server.createDatabase()
            let backend = try await Self.cookieBackend()
            var env = ["TOKENJAR_STORE_ENCRYPTION_KEYS": "1:\(Self.key)", "TOKENJAR_COOKIES_MAX_PER_DOMAIN": "3000"]
            env.merge(environment) { _, new in new }
            let settings = env
            let (url, upstream) = (server.url(database: database), backend.port)
            let started = NIOLockedValueBox<[GatewayProcess]>([])
            do {
                // Started together, so both migrate at once (the advisory lock orders them).
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<count {
                        group.addTask {
                            let gateway = try await GatewayProcess.start(
                                store: url, upstream: upstream, environment: settings,
                                logDirectory: server.directory, name: "gateway-\(index)")
                            started.withLockedValue { $0.append(gateway) }
                        }
                    }
                    try await group.waitForAll()
                }
                let gateways = started.withLockedValue { $0 }.sorted { $0.logFile < $1.logFile }
                try await body(server, database, gateways)
            } catch {
                let gateways = started.withLockedValue { $0 }
                for gateway in gateways { print("--- \(gateway.logFile)\n\(gateway.logTail)") }
                for gateway in gateways { await gateway.stop() }
                await backend.stop()
                throw error
            }
            for gateway in started.withLockedValue({ $0 }) { await gateway.stop() }
            await backend.stop()
        }
    }

    /// Mints a session with a first cookie; returns its token.
    func mint(_ gateway: GatewayProcess) async throws -> String {
        let first = try await gateway.request("/set?n=base&v=1")
        #expect(first.status == .ok)
        return try #require(first.headers.first(name: "X-Session-Token"), "no token minted")
    }

    @Test("requests of one token alternate between instances; each sees the other's updates at once; values are encrypted")
    func alternating() async throws {
        try await withGateways { server, database, gateways in
            let token = try await mint(gateways[0])
            for round in 1...10 {
                let (gateway, other) = (gateways[round % 2], gateways[(round + 1) % 2])
                let set = try await gateway.request("/set?n=turn&v=secret-\(round)-value", token: token)
                #expect(set.status == .ok)
                let seen = try await other.request("/echo", token: token)
                #expect(seen.status == .ok && seen.body.contains("turn=secret-\(round)-value"), "round \(round): \(seen.body)")
                #expect(seen.body.contains("base=1"))
            }
            #expect(try await gateways[1].request("/del?n=turn", token: token).status == .ok)
            let after = try await gateways[0].request("/echo", token: token)
            #expect(after.body == "base=1", "\(after.body)")

            // At rest: no cookie value in plain text, every payload sealed (format byte 0xE5).
            let rows = """
                SELECT count(*) || ':' || count(*) FILTER (WHERE get_byte(payload, 0) = 229)
                    || ':' || count(*) FILTER (WHERE position(convert_to('base=1', 'UTF8') IN payload) > 0
                                              OR position(convert_to('secret-', 'UTF8') IN payload) > 0)
                FROM tokenjar_cookies
                """
            #expect(try await server.psql(rows, database: database) == "1:1:0")
        }
    }

    @Test("40 concurrent requests of one token over both instances, each setting its own cookie: all 40 are kept")
    func fortyConcurrent() async throws {
        // A generous wait for a connection: this test is about losing nothing, not about latency
        // on a test machine that is busy with other suites.
        try await withGateways(environment: Self.patient) { server, database, gateways in
            let token = try await mint(gateways[0])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for i in 0..<40 {
                    group.addTask { try await gateways[i % 2].request("/set?n=c\(i)&v=\(i)", token: token).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok }, "\(statuses)")
            for gateway in gateways {
                let jar = try await gateway.request("/echo", token: token).body
                let names = Set(jar.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).split(separator: "=")[0] })
                #expect(names == Set((0..<40).map { "c\($0)" } + ["base"]), "\(jar)")
            }
            #expect(try await server.psql("SELECT count(*) FROM tokenjar_cookies", database: database) == "41")
        }
    }

    @Test("an instance killed with SIGKILL during writes loses no acknowledged cookie")
    func killDuringWrites() async throws {
        try await withGateways(environment: Self.patient) { server, database, gateways in
            let token = try await mint(gateways[0])
            let acknowledged = NIOLockedValueBox<[String]>([])
            let refused = NIOLockedValueBox(0)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for n in 0..<80 where ContinuousClock.now - start < .seconds(15) {
                            let name = "w\(worker)n\(n)"
                            // An error or a non-200 answer is no acknowledgement (the killed instance).
                            if let response = try? await gateways[n % 2].request("/set?n=\(name)&v=1", token: token),
                               response.status == .ok {
                                acknowledged.withLockedValue { $0.append(name) }
                            } else {
                                refused.withLockedValue { $0 += 1 }
                            }
                        }
                    }
                }
                group.addTask {
                    // Killed mid-stream once enough writes were acknowledged (however slow the
                    // machine), or after ten seconds at the latest.
                    while acknowledged.withLockedValue({ $0.count }) < 40, ContinuousClock.now - start < .seconds(10) {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    await gateways[0].kill()
                }
                try await group.waitForAll()
            }
            #expect(!(await gateways[0].isRunning))
            let acked = acknowledged.withLockedValue { $0 }
            let stored = Set(try await server.psql("SELECT name FROM tokenjar_cookies", database: database)
                .split(separator: "\n").map(String.init))
            let missing = acked.filter { !stored.contains($0) }
            #expect(acked.count > 20, "too few writes to mean anything: \(acked.count)")
            #expect(missing.isEmpty, "acknowledged but not stored: \(missing)")
            // The survivor serves the whole jar.
            let jar = try await gateways[1].request("/echo", token: token)
            #expect(jar.status == .ok && acked.allSatisfy { jar.body.contains("\($0)=1") })
            print("SIGKILL during writes: \(acked.count) acknowledged, \(refused.withLockedValue { $0 }) not, "
                + "\(stored.count) cookies stored, none acknowledged missing")
        }
    }

    @Test("database stopped: 503 JSON within a second, the gateway stays up; started again: service resumes")
    func databaseOutage() async throws {
        try await withGateways(1) { server, _, gateways in
            let gateway = gateways[0]
            let token = try await mint(gateway)
            try await server.pause()

            var slowest = Duration.zero
            for attempt in 0..<6 {
                let began = ContinuousClock.now
                let response = try await gateway.request(attempt == 5 ? "/set?n=x&v=1" : "/echo",
                                                         token: attempt == 5 ? nil : token)
                slowest = max(slowest, ContinuousClock.now - began)
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
                #expect(response.body.contains("store_unavailable"), "\(response.body)")
            }
            #expect(slowest < .seconds(1), "slowest 503 took \(slowest)")
            #expect(await gateway.isRunning)

            try await server.resume()
            let restarted = ContinuousClock.now
            var status: HTTPResponseStatus?
            var body = ""
            while status != .ok, ContinuousClock.now - restarted < .seconds(30) {
                if let response = try? await gateway.request("/echo", token: token) {
                    (status, body) = (response.status, response.body)
                }
                if status != .ok { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == .ok && body == "base=1", "no recovery within 30 s: \(String(describing: status)) \(body)")
            print("database outage: slowest 503 \(slowest); serving again \(ContinuousClock.now - restarted) after restart")
        }
    }
}
