/// How the gateway connects to `https://` upstreams. One setting for every HTTPS upstream of
/// every route: backends behind one gateway are normally signed by one internal CA.
public struct UpstreamTLSConfig: Sendable, Equatable {
    /// PEM bundle of the CAs that sign upstream certificates; `""` uses the system's trust roots.
    public var caFile: String
    /// PEM client certificate presented to upstreams (mutual TLS); `""` presents none.
    public var clientCert: String
    /// PEM private key of `clientCert`.
    public var clientKey: String

    public init(caFile: String = "", clientCert: String = "", clientKey: String = "") {
        self.caFile = caFile
        self.clientCert = clientCert
        self.clientKey = clientKey
    }
}

extension UpstreamTLSConfig {
    static let configKeys: [ConfigKey<UpstreamTLSConfig>] = [
        .key("ca_file", .string, \.caFile,
             doc: "PEM bundle of the CAs trusted for `https://` upstreams (their certificate must also name the "
                + "upstream host); `\"\"` uses the system's trust roots."),
        .key("client_cert", .string, \.clientCert,
             doc: "PEM certificate chain presented to `https://` upstreams that ask for one (mutual TLS); "
                + "`\"\"` for none. Needs `client_key`."),
        .key("client_key", .string, \.clientKey, doc: "PEM private key of `client_cert`."),
    ]
}
