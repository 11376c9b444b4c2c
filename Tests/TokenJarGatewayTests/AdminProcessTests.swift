#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TokenJarGateway

/// The real `tokenjar serve` with its admin listener, and the real `tokenjar sessions` command
/// talking to it.
@Suite("Admin listener of the real binary", .serialized)
struct AdminProcessTests {
    static let adminToken = "admin-token-of-the-process-test"

    @Test("metrics from the bootstrapped registry, the sessions command, and SIGTERM with the admin listener")
    func adminListenerAndSessionsCommand() async throws {
        let directory = try External.temporaryDirectory("admin-process")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try await TestBackend.start(group: testGroup) { request in
            BackendResponse(headers: [("Set-Cookie", "SID=process-secret; Path=/")], body: request.uri)
        }
        defer { Task { await backend.stop() } }
        let adminPort = try await External.freePort()
        let gateway = try await GatewayProcess.start(
            store: "memory", upstream: backend.port,
            environment: ["TOKENJAR_ADMIN_LISTEN": "127.0.0.1:\(adminPort)", "TOKENJAR_ADMIN_TOKEN": Self.adminToken],
            logDirectory: directory, name: "gateway")
        try await External.waitForPort(adminPort)

        let minted = try await gateway.request("/first")
        let token = try #require(minted.headers.first(name: "X-Session-Token"))
        #expect(try await gateway.request("/second", token: token).status == .ok)

        let metrics = try await TestHTTPClient.request(group: testGroup, port: adminPort, path: "/metrics")
        let requestLines = metrics.body.split(separator: "\n").filter {
            $0.hasPrefix("tokenjar_requests_total{") && $0.contains(#"route="default""#) && $0.contains(#"status="2xx""#)
        }
        #expect(requestLines.count == 1 && requestLines.first?.hasSuffix(" 2") == true, "\(metrics.body)")
        #expect(metrics.body.contains("\ntokenjar_tokens_minted_total 1"))

        let admin = "http://127.0.0.1:\(adminPort)"
        let count = try await Self.sessions(["count", "--admin", admin], directory: directory, name: "count")
        #expect(count.status == 0)
        #expect(count.output.contains(#""sessions":1"#), "\(count.output)")

        let prefix = String(SessionToken.hash(token).hex.prefix(12))
        let shown = try await Self.sessions(["show", prefix, "--admin", admin], directory: directory, name: "show")
        #expect(shown.status == 0 && shown.output.contains("(redacted)") && !shown.output.contains("process-secret"))

        let refused = try await Self.sessions(["count", "--admin", admin], token: "wrong-wrong-wrong-wrong", directory: directory, name: "refused")
        #expect(refused.status == 1 && refused.output.contains("HTTP 401"), "\(refused.output)")

        let revoked = try await Self.sessions(["revoke", prefix, "--admin", admin], directory: directory, name: "revoke")
        #expect(revoked.status == 0 && revoked.output.contains(#""revoked":1"#), "\(revoked.output)")
        let after = try await gateway.request("/third", token: token)
        #expect(after.headers.first(name: "X-Session-Token") != nil, "a revoked token gets a fresh session")
        #expect(backend.requests.last?.headers["Cookie"].isEmpty == true)

        gateway.process.signal(SIGTERM)
        let status = await gateway.process.wait(timeout: .seconds(20))
        #expect(status == 0, "\(gateway.logTail)")
        #expect(!gateway.log.contains("process-secret") && !gateway.log.contains(Self.adminToken) && !gateway.log.contains(token))
    }

    /// Runs `tokenjar sessions ARGS` to completion; returns its exit status and output.
    static func sessions(_ arguments: [String], token: String = adminToken, directory: URL, name: String) async throws
        -> (status: Int32?, output: String)
    {
        let binary = try #require(GatewayProcess.binary)
        let out = directory.appendingPathComponent("\(name).out").path
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TOKENJAR_") }
        env["TOKENJAR_ADMIN_TOKEN"] = token
        let process = try ChildProcess(binary, ["sessions"] + arguments, environment: env, logFile: out)
        let status = await process.wait(timeout: .seconds(20))
        if status == nil { await process.stop(SIGKILL) }
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }
}
