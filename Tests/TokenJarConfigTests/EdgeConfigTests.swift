import Testing

@testable import TokenJarConfig

/// TLS, upstream TLS and gzip keys, and what a reload can apply.
@Suite struct EdgeConfigTests {
    static let route = "routes:\n  - upstreams: [\"https://backend.internal\"]\n"

    @Test func keysLoadFromTheFileAndTheEnvironment() throws {
        let config = try ConfigLoader.load(yaml: """
            server:
              tls_cert: /etc/tls/chain.pem
              tls_key: /etc/tls/key.pem
            upstream_tls:
              ca_file: /etc/tls/backend-ca.pem
            routes:
              - upstreams: ["https://backend.internal"]
                gzip: true
                gzip_min_bytes: 2KiB
            """, environment: [
                "TOKENJAR_UPSTREAM_TLS_CLIENT_CERT": "/etc/tls/gw.pem", "TOKENJAR_UPSTREAM_TLS_CLIENT_KEY": "/etc/tls/gw.key",
            ])
        #expect(config.server.tlsEnabled)
        #expect(config.server.tlsKey == "/etc/tls/key.pem")
        #expect(config.upstreamTLS == UpstreamTLSConfig(
            caFile: "/etc/tls/backend-ca.pem", clientCert: "/etc/tls/gw.pem", clientKey: "/etc/tls/gw.key"))
        #expect(config.routes[0].gzip)
        #expect(config.routes[0].gzipMinBytes == 2048)
        #expect(config.routes[0].upstreams[0].port == 443)
    }

    @Test func aCertificateNeedsItsKeyAndTheOtherWayRound() {
        for (yaml, missing) in [
            ("server:\n  tls_cert: /c.pem\n", "server.tls_key"),
            ("server:\n  tls_key: /k.pem\n", "server.tls_cert"),
            ("upstream_tls:\n  client_cert: /c.pem\n", "upstream_tls.client_key"),
        ] {
            #expect {
                _ = try ConfigLoader.load(yaml: yaml + Self.route, environment: [:])
            } throws: { error in
                "\(error)".contains(missing)
            }
        }
    }

    @Test func reloadNamesOnlyTheKeysThatNeedARestart() throws {
        let old = try ConfigLoader.load(yaml: "server:\n  tls_cert: /a.pem\n  tls_key: /a.key\n" + Self.route, environment: [:])
        var new = old
        new.server.tlsCert = "/b.pem"
        new.upstreamTLS.caFile = "/ca.pem"
        new.routes[0].gzip = true
        #expect(old.keysNeedingRestart(toApply: new).isEmpty)
        new.server.maxConnections = 5
        new.store.url = .memory
        #expect(old.keysNeedingRestart(toApply: new) == ["server.max_connections", "store.url"])
        var plain = old
        plain.server.tlsCert = ""
        plain.server.tlsKey = ""
        #expect(old.keysNeedingRestart(toApply: plain) == ["server.tls_cert"])
    }
}
