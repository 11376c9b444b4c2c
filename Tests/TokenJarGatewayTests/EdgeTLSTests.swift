import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
@testable import TokenJarGateway

/// HTTPS and HTTP/2 at the public listener, with a CA and certificates the test makes itself.
@Suite("TLS and HTTP/2 at the edge", .enabled(if: TestCertificateAuthority.available || External.required))
struct EdgeTLSTests {
    /// An HTTP client that trusts only `ca`; `.automatic` negotiates HTTP/2 by ALPN.
    static func client(trusting ca: String, version: HTTPClient.Configuration.HTTPVersion = .automatic) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = version
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: testGroup, configuration: configuration)
    }

    static func get(
        _ client: HTTPClient, _ url: String, headers: [(String, String)] = []
    ) async throws -> (response: HTTPClientResponse, body: String) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response, String(buffer: body))
    }

    @Test("HTTP/2 by ALPN: the request is proxied over h2, the token is minted and the jar works across streams")
    func http2() async throws {
        let directory = try External.temporaryDirectory("edge-h2")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 21)
        let backend = try await TestBackend.start(group: testGroup) { request in
            request.uri == "/login"
                ? BackendResponse(headers: [("Set-Cookie", "PHPSESSID=h2jar; Path=/")], body: "logged in")
                : BackendResponse(body: "hello \(request.uri)")
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])]) {
            $0.tls = TLSCertificateFiles(certificateChain: leaf.certificate, privateKey: leaf.key)
        }
        let client = try Self.client(trusting: ca.certificate)
        defer { Task { try? await client.shutdown(); try? await gateway.stop(); await backend.stop() } }

        let login = try await Self.get(client, "https://localhost:\(gateway.port)/login")
        #expect(login.response.status == .ok)
        #expect(login.response.version == .http2)
        #expect(login.body == "logged in")
        #expect(login.response.headers["set-cookie"].isEmpty)
        let token = try #require(login.response.headers.first(name: "X-Session-Token"))

        // Several streams at once on the one connection, each with the jar's cookie.
        try await withThrowingTaskGroup(of: (HTTPClientResponse, String).self) { group in
            for i in 0..<8 {
                group.addTask { try await Self.get(client, "https://localhost:\(gateway.port)/page/\(i)", headers: [("X-Session-Token", token)]) }
            }
            for try await (response, body) in group {
                #expect(response.status == .ok)
                #expect(response.version == .http2)
                #expect(body.hasPrefix("hello /page/"))
            }
        }
        let pages = backend.requests.filter { $0.uri.hasPrefix("/page/") }
        #expect(pages.count == 8)
        #expect(pages.allSatisfy { $0.headers.first(name: "cookie") == "PHPSESSID=h2jar" })
        // The backend learns the client used HTTPS, and which host it asked for.
        #expect(pages.allSatisfy { $0.headers.first(name: "x-forwarded-proto") == "https" })
        #expect(pages.allSatisfy { $0.headers.first(name: "x-forwarded-host") == "localhost:\(gateway.port)" })
    }

    @Test("gzip on an HTTP/2 stream: compressed, with Vary, and the same body after decoding",
          .enabled(if: External.find("gzip") != nil))
    func gzipOverHTTP2() async throws {
        let directory = try External.temporaryDirectory("edge-h2-gzip")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 24)
        let backend = try await TestBackend.start(group: testGroup) { _ in
            BackendResponse(headers: [("Content-Type", "application/json")], body: GzipTests.json)
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)], gzip: true)]) {
            $0.tls = TLSCertificateFiles(certificateChain: leaf.certificate, privateKey: leaf.key)
        }
        let client = try Self.client(trusting: ca.certificate)
        defer { Task { try? await client.shutdown(); try? await gateway.stop(); await backend.stop() } }

        var request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/items")
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        let response = try await client.execute(request, timeout: .seconds(10))
        var body = try await response.body.collect(upTo: 1 << 20)
        #expect(response.version == .http2)
        #expect(response.headers.first(name: "content-encoding") == "gzip")
        #expect(response.headers["vary"].contains { $0.lowercased().contains("accept-encoding") })
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        // No stale length of the uncompressed body (the client's HTTP/1 view of an h2 answer
        // without a length shows it as chunked).
        #expect(response.headers.first(name: "content-length").map { Int($0) == bytes.count } ?? true)
        #expect(bytes.count < GzipTests.json.utf8.count / 3)
        #expect(try GzipTests.gunzip(bytes) == GzipTests.json)
    }

    @Test("HTTP/1.1 over TLS when the client offers only http/1.1")
    func http1OverTLS() async throws {
        let directory = try External.temporaryDirectory("edge-h1")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 22)
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "over tls") }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])]) {
            $0.tls = TLSCertificateFiles(certificateChain: leaf.certificate, privateKey: leaf.key)
        }
        let client = try Self.client(trusting: ca.certificate, version: .http1Only)
        defer { Task { try? await client.shutdown(); try? await gateway.stop(); await backend.stop() } }

        for _ in 0..<3 {
            let answer = try await Self.get(client, "https://localhost:\(gateway.port)/")
            #expect(answer.response.status == .ok)
            #expect(answer.response.version == .http1_1)
            #expect(answer.body == "over tls")
        }
        // Plain HTTP to the TLS port gets no HTTP answer.
        let plain = try? await TestHTTPClient.raw(group: testGroup, port: gateway.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(!(plain ?? "").contains("HTTP/1.1 200"))
    }

    @Test("a connection that never starts its TLS handshake is closed after the header read timeout")
    func silentConnection() async throws {
        let directory = try External.temporaryDirectory("edge-idle")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 23)
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(1)])]) {
            $0.tls = TLSCertificateFiles(certificateChain: leaf.certificate, privateKey: leaf.key)
            $0.headerReadTimeout = .milliseconds(300)
        }
        defer { Task { try? await gateway.stop() } }
        let started = ContinuousClock.now
        let answer = try await TestHTTPClient.raw(group: testGroup, port: gateway.port, "", timeout: .seconds(5))
        #expect(answer.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(3), "closed by the gateway, not by the client's own timeout")
    }

    @Test("a missing certificate file stops the gateway at start, naming the file")
    func missingCertificate() async throws {
        do {
            let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(1)])]) {
                $0.tls = TLSCertificateFiles(certificateChain: "/nonexistent/cert.pem", privateKey: "/nonexistent/key.pem")
            }
            try await gateway.stop()
            Issue.record("the gateway started without its certificate")
        } catch {
            #expect("\(error)".contains("/nonexistent/cert.pem"))
        }
    }
}
