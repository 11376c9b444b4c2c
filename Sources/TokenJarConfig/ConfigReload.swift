/// What a running gateway can take from a reloaded configuration (SIGHUP), and what waits for
/// a restart.
extension GatewayConfig {
    /// Keys a reload applies: the routes (with their upstreams), the listener's certificate
    /// files and the `upstream_tls` section. Everything else is read once, at start.
    public static let reloadableKeyPaths: Set<String> = [
        "server.tls_cert", "server.tls_key",
        "upstream_tls.ca_file", "upstream_tls.client_cert", "upstream_tls.client_key",
    ]

    /// The `section.key` paths whose value differs in `newer` and that only a restart applies.
    /// Turning HTTPS on or off is among them (the listener's pipeline is chosen at start). The
    /// values of secret keys are compared but never returned.
    public func keysNeedingRestart(toApply newer: GatewayConfig) -> [String] {
        var changed: [String] = []
        for section in ConfigRegistry.sections {
            for key in section.keys {
                let path = section.keyPath(of: key)
                guard key.render(self) != key.render(newer) else { continue }
                if !Self.reloadableKeyPaths.contains(path) { changed.append(path) }
            }
        }
        if server.tlsEnabled != newer.server.tlsEnabled, !changed.contains("server.tls_cert") {
            changed.append("server.tls_cert")
        }
        return changed
    }
}
