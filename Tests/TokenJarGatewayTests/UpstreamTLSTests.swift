import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
@testable import TokenJarGateway

/// `https://` upstreams: the backend speaks TLS with a certificate from a CA the test makes.
@Suite("HTTPS upstreams", .enabled(if: TestCertificateAuthority.available || External.required))
struct UpstreamTLSTests {
    /// A TLS backend with `leaf`; with `clientCA`, it demands a client certificate signed by it.
    static func backend(_ leaf: TestCertificateAuthority.Issued, clientCA: String? = nil) async throws -> TestBackend {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(leaf.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: leaf.key, format: .pem)))
        if let clientCA {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
        }
        return try await TestBackend.start(group: testGroup, tls: try NIOSSLContext(configuration: tls)) { request in
            BackendResponse(body: "secure \(request.uri)")
        }
    }

    static func gateway(_ port: Int, host: String = "localhost", _ tls: UpstreamTLSOptions) async throws -> RunningGateway {
        try await RunningGateway.start(routes: [
            RouteSpec(upstreams: [Upstream(host: host, port: port, isTLS: true)], connectTimeout: .seconds(2))
        ]) { $0.upstreamTLS = tls }
    }

    @Test("the gateway verifies the backend against the configured CA, by host name and by IP address")
    func trustedBackend() async throws {
        let directory = try External.temporaryDirectory("upstream-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let backend = try await Self.backend(try ca.issue("backend", serial: 31))
        defer { Task { await backend.stop() } }

        for host in ["localhost", "127.0.0.1"] {
            let gateway = try await Self.gateway(backend.port, host: host, UpstreamTLSOptions(caFile: ca.certificate))
            let answer = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/a?b=1")
            #expect(answer.status == .ok, "\(host): \(answer.body)")
            #expect(answer.body == "secure /a?b=1")
            // The keep-alive connection is reused for the next request.
            let again = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/again")
            #expect(again.body == "secure /again")
            try await gateway.stop()
        }
        #expect(backend.requests.count == 4)
    }

    @Test("a backend certificate from another CA is refused: 502, and nothing reaches the backend")
    func untrustedBackend() async throws {
        let directory = try External.temporaryDirectory("upstream-tls-refused")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory, name: "real")
        let other = try TestCertificateAuthority.make(in: directory, name: "other")
        let backend = try await Self.backend(try ca.issue("backend", serial: 32))
        let gateway = try await Self.gateway(backend.port, UpstreamTLSOptions(caFile: other.certificate))
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        let answer = try await TestHTTPClient.request(group: testGroup, port: gateway.port, path: "/")
        #expect(answer.status == .badGateway)
        #expect(answer.body.contains("upstream"))
        #expect(backend.requests.isEmpty)
    }

    @Test("mutual TLS: the configured client certificate is presented; without it the backend refuses")
    func clientCertificate() async throws {
        let directory = try External.temporaryDirectory("upstream-mtls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let client = try ca.issue("gateway-client", commonName: "tokenjar", serial: 34)
        let backend = try await Self.backend(try ca.issue("backend", serial: 33), clientCA: ca.certificate)
        defer { Task { await backend.stop() } }

        let with = try await Self.gateway(backend.port, UpstreamTLSOptions(
            caFile: ca.certificate,
            clientCertificate: TLSCertificateFiles(certificateChain: client.certificate, privateKey: client.key)))
        let accepted = try await TestHTTPClient.request(group: testGroup, port: with.port, path: "/m")
        #expect(accepted.status == .ok)
        #expect(accepted.body == "secure /m")
        try await with.stop()

        let without = try await Self.gateway(backend.port, UpstreamTLSOptions(caFile: ca.certificate))
        let refused = try await TestHTTPClient.request(group: testGroup, port: without.port, path: "/m")
        #expect(refused.status == .badGateway)
        try await without.stop()
        #expect(backend.requests.count == 1)
    }
}
