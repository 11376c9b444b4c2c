import Foundation
import Testing
import TokenJarConfig
import TokenJarTestSupport

@testable import TokenJarGateway

/// `check-config` reads the certificate and key files a configuration names, as `serve` would.
@Suite("check-config reads the TLS files", .enabled(if: TestCertificateAuthority.available || External.required))
struct TLSFileCheckTests {
    static func config(cert: String = "", key: String = "", caFile: String = "") -> GatewayConfig {
        var server = ServerConfig()
        server.tlsCert = cert
        server.tlsKey = key
        return GatewayConfig(server: server, upstreamTLS: UpstreamTLSConfig(caFile: caFile))
    }

    @Test("a configuration without TLS, or with good files, has no problem")
    func goodFiles() throws {
        let directory = try External.temporaryDirectory("tls-check-good")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 31)
        #expect(TLSFileCheck.problems(Self.config()).isEmpty)
        #expect(TLSFileCheck.problems(Self.config(cert: leaf.certificate, key: leaf.key, caFile: ca.certificate)).isEmpty)
    }

    @Test("a missing file, a file that is not PEM, a key of another certificate: each named, no key material")
    func badFiles() throws {
        let directory = try External.temporaryDirectory("tls-check-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 32)
        let other = try ca.issue("other", serial: 33)
        let garbage = directory.appendingPathComponent("garbage.pem").path
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)

        let missing = TLSFileCheck.problems(Self.config(cert: directory.appendingPathComponent("none.pem").path, key: leaf.key))
        #expect(missing.count == 1)
        #expect(missing.first?.hasPrefix("server.tls_cert, server.tls_key: ") == true)
        #expect(missing.first?.contains("none.pem") == true)

        let mismatched = TLSFileCheck.problems(Self.config(cert: leaf.certificate, key: other.key))
        #expect(mismatched.count == 1, "a key that does not fit the certificate: \(mismatched)")

        let notPEM = TLSFileCheck.problems(Self.config(caFile: garbage))
        #expect(notPEM.count == 1)
        #expect(notPEM.first?.hasPrefix("upstream_tls: ") == true)
        #expect(notPEM.first?.contains("garbage.pem") == true)

        let keyText = try String(contentsOfFile: other.key, encoding: .utf8)
        let keyLines = keyText.split(separator: "\n").filter { !$0.hasPrefix("-----") }
        for problem in missing + mismatched + notPEM {
            #expect(!keyLines.contains { problem.contains($0) }, "key material in: \(problem)")
        }
    }

    @Test("the check-config command reports a bad certificate file and exits non-zero")
    func command() async throws {
        let binary = try #require(GatewayProcess.binary, "the tokenjar binary is not next to the test bundle")
        let directory = try External.temporaryDirectory("tls-check-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 34)
        let configFile = directory.appendingPathComponent("tokenjar.yaml").path
        let output = directory.appendingPathComponent("out.txt").path

        func check(cert: String) async throws -> (status: Int32?, output: String) {
            try """
                server:
                  tls_cert: "\(cert)"
                  tls_key: "\(leaf.key)"
                routes:
                  - upstreams: ["http://127.0.0.1:9"]
                """.write(toFile: configFile, atomically: true, encoding: .utf8)
            let process = try ChildProcess(binary, ["check-config", configFile], environment: [:], logFile: output)
            let status = await process.wait(timeout: .seconds(30))
            return (status, try String(contentsOfFile: output, encoding: .utf8))
        }

        let good = try await check(cert: leaf.certificate)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains(": OK: "))

        let bad = try await check(cert: directory.appendingPathComponent("gone.pem").path)
        #expect(bad.status == 1)
        #expect(bad.output.contains("server.tls_cert, server.tls_key: "))
        #expect(bad.output.contains("gone.pem"))
        #expect(bad.output.contains("1 problem found"))
    }
}
