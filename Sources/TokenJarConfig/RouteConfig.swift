/// Whether a route creates a session for a request that carries no token.
public enum MintPolicy: String, Sendable, CaseIterable {
    /// A request without a token gets a new session token.
    case auto
    /// No token is minted on this route; sessions start elsewhere.
    case never
}

/// What the client sees of a backend's `Set-Cookie`.
public enum SetCookiePolicy: String, Sendable, CaseIterable {
    /// Stored in the jar and removed from the response.
    case strip
    /// Stored in the jar and also passed on to the client.
    case pass
}

/// What happens to a `Cookie` header the client itself sends.
public enum ClientCookiePolicy: String, Sendable, CaseIterable {
    /// Merged with the jar's cookies.
    case merge
    /// Dropped; the backend sees only the jar's cookies.
    case drop
}

/// Which sessions a route lets through.
public enum RouteAuth: String, Sendable, CaseIterable {
    /// Every session, logged in or not.
    case none
    /// Only sessions logged in through WeChat; others get `401 login_required`.
    case wechat
}

/// One route: which requests it takes (host and path prefix) and the backend instances they go to.
/// Routes are tried in order; the first match wins.
public struct RouteConfig: Sendable, Equatable {
    /// A name for logs and metrics: letters, digits, `-`, `_`, `.`.
    public var name: String
    /// The host it answers for; nil for any host.
    public var host: HostPattern?
    public var pathPrefix: String
    /// Whether `pathPrefix` is removed from the path before it is forwarded.
    public var stripPrefix: Bool
    /// Instances of one backend.
    public var upstreams: [UpstreamURL]
    public var mint: MintPolicy
    public var setCookie: SetCookiePolicy
    public var clientCookies: ClientCookiePolicy
    public var connectTimeout: Duration
    /// Until the response head arrives.
    public var responseTimeout: Duration
    /// Longest pause while a body streams, in either direction.
    public var bodyIdleTimeout: Duration
    /// nil means `server.max_body_bytes`.
    public var maxBodyBytes: Int?
    /// Which sessions may pass.
    public var auth: RouteAuth
    /// Compress responses with gzip for clients that accept it.
    public var gzip: Bool
    /// Responses with a smaller `Content-Length` are sent as they are.
    public var gzipMinBytes: Int

    public init(
        name: String = "default",
        host: HostPattern? = nil,
        pathPrefix: String = "/",
        stripPrefix: Bool = false,
        upstreams: [UpstreamURL] = [],
        mint: MintPolicy = .auto,
        setCookie: SetCookiePolicy = .strip,
        clientCookies: ClientCookiePolicy = .merge,
        connectTimeout: Duration = .seconds(2),
        responseTimeout: Duration = .seconds(30),
        bodyIdleTimeout: Duration = .seconds(30),
        maxBodyBytes: Int? = nil,
        auth: RouteAuth = .none,
        gzip: Bool = false,
        gzipMinBytes: Int = 1024
    ) {
        self.name = name
        self.host = host
        self.pathPrefix = pathPrefix
        self.stripPrefix = stripPrefix
        self.upstreams = upstreams
        self.mint = mint
        self.setCookie = setCookie
        self.clientCookies = clientCookies
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
        self.maxBodyBytes = maxBodyBytes
        self.auth = auth
        self.gzip = gzip
        self.gzipMinBytes = gzipMinBytes
    }

    /// The body limit in force for this route.
    public func effectiveMaxBodyBytes(server: ServerConfig) -> Int {
        maxBodyBytes ?? server.maxBodyBytes
    }

    /// The default name of the route at `index` when the file gives none.
    static func defaultName(at index: Int) -> String {
        index == 0 ? "default" : "route-\(index)"
    }
}

extension RouteConfig {
    static let configKeys: [ConfigKey<RouteConfig>] = [
        .key("name", .routeName, \.name, defaultDoc: "`default`, then `route-N`",
             doc: "Name for logs and metrics, unique among routes. Defaults to `default` for the first route "
                + "and `route-N` for `routes[N]`."),
        .key("host", .hostPattern, \.host,
             doc: "`\"\"` for any host, else an exact host (case-insensitive) or a wildcard such as `*.example.com`."),
        .key("path_prefix", .pathPrefix, \.pathPrefix, doc: "Requests whose path starts with this prefix take this route."),
        .key("strip_prefix", .bool, \.stripPrefix, doc: "Remove `path_prefix` from the path before forwarding."),
        .key("upstreams", .upstreams, \.upstreams, defaultDoc: "none (required)",
             doc: "Required, at least one: `http(s)://host:port[/base-path]`; several are instances of one backend."),
        .key("mint", .choice, \.mint,
             doc: "`auto` mints a new session token for a request that carries none; `never` does not."),
        .key("set_cookie", .choice, \.setCookie,
             doc: "`strip` keeps backend cookies in the jar only; `pass` also lets the client see `Set-Cookie`."),
        .key("client_cookies", .choice, \.clientCookies,
             doc: "`merge` adds the client's own `Cookie` header to the jar's cookies; `drop` discards it."),
        .key("connect_timeout", .duration(), \.connectTimeout, doc: "Time to connect to an upstream."),
        .key("response_timeout", .duration(), \.responseTimeout, doc: "Time from sending the request until the response head."),
        .key("body_idle_timeout", .duration(), \.bodyIdleTimeout, doc: "Longest pause while a body streams."),
        .key("max_body_bytes", .optionalSize, \.maxBodyBytes,
             doc: "Largest request body for this route; `\"\"` means `server.max_body_bytes`."),
        .key("auth", .choice, \.auth,
             doc: "`none` lets every session through; `wechat` only sessions logged in through WeChat "
                + "(others get `401 login_required`)."),
        .key("gzip", .bool, \.gzip,
             doc: "Compress responses with gzip when the client accepts it, the backend sent no `Content-Encoding` "
                + "and the type is compressible (text, JSON, XML, JavaScript, SVG)."),
        .key("gzip_min_bytes", .size(), \.gzipMinBytes,
             doc: "Responses whose `Content-Length` is below this are not compressed (bodies of unknown length are)."),
    ]
}

extension ConfigValueType where Value == String {
    static var routeName: Self {
        .string("route name") { text throws(ConfigValueError) in
            let name = text.trimmingSpaces()
            guard !name.isEmpty else { throw ConfigValueError("a route name cannot be empty") }
            guard name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "_" || $0 == "." }) else {
                throw ConfigValueError("a route name may contain only letters, digits, '-', '_' and '.'")
            }
            return name
        }
    }

    static var pathPrefix: Self {
        .string("path prefix") { text throws(ConfigValueError) in try checkedPath(text) }
    }
}
