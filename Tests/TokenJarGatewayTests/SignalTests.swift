#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

/// The real `tokenjar serve` and its signals: SIGHUP reloads the configuration file, SIGTERM
/// drains in-flight requests and exits 0.
@Suite("Reload and shutdown signals", .serialized)
struct SignalTests {
    /// A configuration file with one route to `upstream` and `extra` YAML for the server section.
    static func writeConfig(_ path: String, upstream: Int, server: String = "") throws {
        try """
            store:
              url: memory
            server:
              shutdown_grace: 10s
            \(server)
            routes:
              - name: default
                upstreams:
                  - http://127.0.0.1:\(upstream)
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Sends SIGHUP and waits for the gateway to log the outcome (`reloaded` or `reload refused`).
    static func hangUp(_ gateway: GatewayProcess) async throws -> String {
        let before = gateway.log
        gateway.process.signal(SIGHUP)
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            let added = String(gateway.log.dropFirst(before.count))
            if added.contains("reloaded") || added.contains("reload refused") { return added }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ExternalError("no reload logged within 10 s:\n\(gateway.logTail)")
    }

    /// Waits until `backend` has received `count` requests.
    static func waitForRequests(_ backend: TestBackend, _ count: Int) async throws {
        let end = ContinuousClock.now + .seconds(10)
        while backend.requests.count < count, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
        guard backend.requests.count >= count else { throw ExternalError("the backend saw \(backend.requests.count) requests") }
    }

    @Test("SIGHUP: a changed upstream takes effect while a request is in flight, which still completes from the old one")
    func reloadWithRequestInFlight() async throws {
        let directory = try External.temporaryDirectory("sighup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = try await TestBackend.start(group: testGroup) { request in
            BackendResponse(body: "A \(request.uri)", delay: request.uri == "/slow" ? .milliseconds(1500) : .zero)
        }
        let b = try await TestBackend.start(group: testGroup) { request in BackendResponse(body: "B \(request.uri)") }
        let config = directory.appendingPathComponent("tokenjar.yaml").path
        try Self.writeConfig(config, upstream: a.port)
        let gateway = try await GatewayProcess.start(
            store: "memory", upstream: nil, environment: [:], arguments: ["--config", config],
            logDirectory: directory, name: "sighup")
        defer { Task { await gateway.stop(); await a.stop(); await b.stop() } }

        let slow = Task { try await gateway.request("/slow") }
        try await Self.waitForRequests(a, 1)
        try Self.writeConfig(config, upstream: b.port)
        let outcome = try await Self.hangUp(gateway)
        #expect(outcome.contains("reloaded"), "\(outcome)")
        #expect(outcome.contains("127.0.0.1:\(b.port)"))

        let next = try await gateway.request("/next")
        #expect(next.status == .ok)
        #expect(next.body == "B /next")
        let inFlight = try await slow.value
        #expect(inFlight.status == .ok)
        #expect(inFlight.body == "A /slow")
        #expect(await gateway.isRunning)
    }

    @Test("SIGHUP with a bad file: refused with the key named, the running routes stay; start-only keys are named")
    func reloadRefusedAndRestartKeys() async throws {
        let directory = try External.temporaryDirectory("sighup-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = try await TestBackend.start(group: testGroup) { request in BackendResponse(body: "A \(request.uri)") }
        let config = directory.appendingPathComponent("tokenjar.yaml").path
        try Self.writeConfig(config, upstream: a.port)
        let gateway = try await GatewayProcess.start(
            store: "memory", upstream: nil, environment: [:], arguments: ["--config", config],
            logDirectory: directory, name: "sighup-bad")
        defer { Task { await gateway.stop(); await a.stop() } }

        try """
            store:
              url: memory
            routes:
              - name: default
                upstreams:
                  - ftp://127.0.0.1:1
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try await Self.hangUp(gateway)
        #expect(refused.contains("reload refused"), "\(refused)")
        #expect(refused.contains("routes[0].upstreams[0]"))
        #expect(try await gateway.request("/still").body == "A /still")

        try Self.writeConfig(config, upstream: a.port, server: "  max_connections: 50\n  event_loops: 1")
        let applied = try await Self.hangUp(gateway)
        #expect(applied.contains("reloaded"), "\(applied)")
        #expect(applied.contains("need a restart"))
        #expect(applied.contains("server.max_connections"))
        #expect(applied.contains("server.event_loops"))
        #expect(try await gateway.request("/after").body == "A /after")
    }

    @Test("SIGTERM with a 2-second request in flight: it gets its 200 and the process exits 0")
    func gracefulTermination() async throws {
        let directory = try External.temporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try await TestBackend.start(group: testGroup) { _ in
            BackendResponse(body: "finished", delay: .seconds(2))
        }
        defer { Task { await backend.stop() } }
        let gateway = try await GatewayProcess.start(
            store: "memory", upstream: backend.port, environment: [:], logDirectory: directory, name: "sigterm")

        let started = ContinuousClock.now
        let request = Task { try await gateway.request("/work", timeout: .seconds(10)) }
        try await Self.waitForRequests(backend, 1)
        gateway.process.signal(SIGTERM)
        let response = try await request.value
        #expect(response.status == .ok)
        #expect(response.body == "finished")
        #expect(ContinuousClock.now - started >= .seconds(2))
        let status = await gateway.process.wait(timeout: .seconds(15))
        #expect(status == 0, "\(gateway.logTail)")
        #expect(gateway.log.contains("stopped"))
    }

    @Test("SIGHUP reloads the listener certificate: new connections get the new one, open ones go on",
          .enabled(if: TestCertificateAuthority.available || External.required))
    func certificateReload() async throws {
        let directory = try External.temporaryDirectory("cert-reload")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 41)
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "ok") }
        let config = directory.appendingPathComponent("tokenjar.yaml").path
        try Self.writeConfig(
            config, upstream: backend.port,
            server: "  tls_cert: \(leaf.certificate)\n  tls_key: \(leaf.key)")
        let gateway = try await GatewayProcess.start(
            store: "memory", upstream: nil, environment: [:], arguments: ["--config", config],
            logDirectory: directory, name: "cert-reload")
        defer { Task { await gateway.stop(); await backend.stop() } }

        let old = try await TLSProbe.connect(port: gateway.port, ca: ca.certificate)
        #expect(try await old.get("/") == .ok)
        #expect(old.serial == [41])

        try ca.issue("server", serial: 42)  // the same files, a new certificate
        let outcome = try await Self.hangUp(gateway)
        #expect(outcome.contains("reloaded"), "\(outcome)")

        let new = try await TLSProbe.connect(port: gateway.port, ca: ca.certificate)
        #expect(try await new.get("/") == .ok)
        #expect(new.serial == [42])
        // The connection opened before the reload still serves requests with its certificate.
        #expect(try await old.get("/again") == .ok)
        #expect(old.serial == [41])
        old.close()
        new.close()
    }
}
