/// The public listener: where it binds, how clients name their session, and its limits.
public struct ServerConfig: Sendable, Equatable {
    /// The scheme the gateway assumes clients used, for `Secure` cookies.
    public enum Scheme: String, Sendable, CaseIterable {
        case http
        case https
    }

    /// The public listener.
    public var listen: ListenAddress
    /// Event-loop threads; 0 means one per core.
    public var eventLoops: Int
    /// The request header that carries a client's session token.
    public var tokenHeader: String
    /// The scheme clients are assumed to have used.
    public var scheme: Scheme
    /// Whether to believe a client's `X-Forwarded-Proto` (only behind a TLS-terminating proxy).
    public var trustForwardedProto: Bool
    /// The gateway's own endpoints live under this path and are never forwarded.
    public var reservedPrefix: String
    public var maxHeaderBytes: Int
    /// Most header fields in one request head.
    public var maxHeaders: Int
    public var maxBodyBytes: Int
    public var maxConnections: Int
    /// How long a client may take to send a request head (slowloris protection).
    public var headerReadTimeout: Duration
    /// How long in-flight requests are drained on SIGTERM.
    public var shutdownGrace: Duration
    /// Load benchmarks only: key a jar by any token the client sends (session fixation).
    public var adoptClientTokens: Bool
    /// PEM certificate chain for HTTPS on the public listener; `""` serves plain HTTP.
    public var tlsCert: String
    /// PEM private key of `tlsCert`.
    public var tlsKey: String

    /// Whether the public listener serves HTTPS (and HTTP/2 by ALPN).
    public var tlsEnabled: Bool { !tlsCert.isEmpty }

    public init(
        listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080),
        eventLoops: Int = 0,
        tokenHeader: String = "X-Session-Token",
        scheme: Scheme = .http,
        trustForwardedProto: Bool = false,
        reservedPrefix: String = "/_tokenjar",
        maxHeaderBytes: Int = 32 * 1024,
        maxHeaders: Int = 100,
        maxBodyBytes: Int = 10 * 1024 * 1024,
        maxConnections: Int = 10_000,
        headerReadTimeout: Duration = .seconds(10),
        shutdownGrace: Duration = .seconds(10),
        adoptClientTokens: Bool = false,
        tlsCert: String = "",
        tlsKey: String = ""
    ) {
        self.listen = listen
        self.eventLoops = eventLoops
        self.tokenHeader = tokenHeader
        self.scheme = scheme
        self.trustForwardedProto = trustForwardedProto
        self.reservedPrefix = reservedPrefix
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.headerReadTimeout = headerReadTimeout
        self.shutdownGrace = shutdownGrace
        self.adoptClientTokens = adoptClientTokens
        self.tlsCert = tlsCert
        self.tlsKey = tlsKey
    }
}

extension ServerConfig {
    static let configKeys: [ConfigKey<ServerConfig>] = [
        .key("listen", .address, \.listen, doc: "Address of the public listener; IPv6 as `[::1]:8080`."),
        .key("event_loops", .integer(0...1024), \.eventLoops, doc: "Event-loop threads; `0` means one per core."),
        .key("token_header", .headerName, \.tokenHeader,
             doc: "Request header carrying the client's session token. Not a hop-by-hop header nor `Cookie`."),
        .key("scheme", .choice, \.scheme,
             doc: "Scheme the gateway assumes clients used, which decides whether `Secure` cookies are sent."),
        .key("trust_forwarded_proto", .bool, \.trustForwardedProto,
             doc: "Believe a client's `X-Forwarded-Proto`. Enable only behind a TLS-terminating proxy."),
        .key("reserved_prefix", .reservedPrefix, \.reservedPrefix,
             doc: "Path prefix of the gateway's own endpoints; never forwarded to a backend."),
        .key("max_header_bytes", .size(minimum: 1024), \.maxHeaderBytes, doc: "Largest request head accepted."),
        .key("max_headers", .integer(1...65_534), \.maxHeaders, doc: "Most header fields in one request head; more is answered with 400."),
        .key("max_body_bytes", .size(), \.maxBodyBytes,
             doc: "Largest request body accepted, unless a route sets its own `max_body_bytes`."),
        .key("max_connections", .integer(1...Int.max), \.maxConnections, doc: "Most client connections open at once."),
        .key("header_read_timeout", .duration(), \.headerReadTimeout,
             doc: "Time a client has to send a complete request head (slowloris protection)."),
        .key("shutdown_grace", .duration(allowZero: true), \.shutdownGrace,
             doc: "On SIGTERM, in-flight requests are drained for at most this long."),
        .key("adopt_client_tokens", .bool, \.adoptClientTokens,
             doc: "Load benchmarks only: an unknown token the client sends becomes a session under that very token, as load harnesses with fixed tokens expect. This is session fixation: never in production; the gateway logs a warning at start."),
        .key("tls_cert", .string, \.tlsCert,
             doc: "PEM certificate chain (leaf first) to serve HTTPS, with HTTP/2 and HTTP/1.1 offered by ALPN; "
                + "`\"\"` serves plain HTTP. Needs `tls_key`. Reloaded on SIGHUP."),
        .key("tls_key", .string, \.tlsKey, doc: "PEM private key of `tls_cert`. Reloaded on SIGHUP."),
    ]
}

extension ConfigValueType where Value == String {
    /// Headers a session token may not travel in: hop-by-hop headers, cookies, and headers that
    /// frame the message.
    static let forbiddenTokenHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
        "trailer", "trailers", "transfer-encoding", "upgrade", "cookie", "cookie2", "set-cookie", "set-cookie2",
        "host", "content-length",
    ]

    /// An HTTP field name (RFC 9110 token) that may carry a session token.
    static var headerName: Self { carrierHeaderName(carrying: "the token") }

    /// An HTTP field name (RFC 9110 token) that is neither a hop-by-hop, cookie nor framing
    /// header, so it can carry `what` (the token, an identity) through the gateway.
    static func carrierHeaderName(carrying what: String) -> Self {
        .string("header name") { text throws(ConfigValueError) in
            let name = text.trimmingSpaces()
            let tokenSymbols = "!#$%&'*+-.^_`|~"
            guard !name.isEmpty,
                name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || tokenSymbols.contains($0) })
            else {
                throw ConfigValueError("expected an HTTP header name (letters, digits and -)")
            }
            guard !forbiddenTokenHeaders.contains(name.lowercased()) else {
                throw ConfigValueError("cannot carry \(what): it is a hop-by-hop, cookie or framing header")
            }
            return name
        }
    }

    /// A path prefix that starts with `/`, is not `/` itself, and has no trailing `/`.
    static var reservedPrefix: Self {
        .string("path prefix") { text throws(ConfigValueError) in
            var prefix = try checkedPath(text)
            while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
            guard prefix != "/" else { throw ConfigValueError("cannot be '/': every request would be reserved") }
            return prefix
        }
    }

    /// A URL path that starts with `/` and has no query, fragment or spaces.
    static func checkedPath(_ text: String) throws(ConfigValueError) -> String {
        let path = text.trimmingSpaces()
        guard path.hasPrefix("/") else { throw ConfigValueError("must start with '/'") }
        guard !path.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace }) else {
            throw ConfigValueError("must be a plain path, without '?', '#' or spaces")
        }
        return path
    }
}
