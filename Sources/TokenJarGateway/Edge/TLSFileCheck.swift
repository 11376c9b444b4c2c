import TokenJarConfig

/// The TLS files a configuration names, read as `serve` reads them, for `check-config`: a file
/// that is missing, not PEM, holds no certificate, or a key that does not fit its certificate is
/// a problem before the gateway starts rather than when it does.
public enum TLSFileCheck {
    /// One line per failing part, prefixed with the key paths it comes from. The messages name
    /// files and the TLS library's reason, never key material.
    public static func problems(_ config: GatewayConfig) -> [String] {
        var problems: [String] = []
        if let edge = GatewayOptions.edgeTLSFiles(config.server) {
            do {
                _ = try edge.makeServerContext()
            } catch {
                problems.append("server.tls_cert, server.tls_key: \(error)")
            }
        }
        let upstream = GatewayOptions.upstreamTLSOptions(config.upstreamTLS)
        if upstream.caFile != nil || upstream.clientCertificate != nil {
            do {
                _ = try upstream.makeContext()
            } catch {
                problems.append("upstream_tls: \(error)")
            }
        }
        return problems
    }
}
