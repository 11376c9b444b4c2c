/// The whole configuration of the gateway. `GatewayConfig()` holds every default; load a file and
/// the environment with ``ConfigLoader``.
public struct GatewayConfig: Sendable, Equatable {
    public var server: ServerConfig
    public var store: StoreConfig
    public var sessions: SessionsConfig
    public var cookies: CookiesConfig
    public var log: LogConfig
    public var wechat: WeChatConfig
    public var admin: AdminConfig
    /// TLS towards `https://` upstreams.
    public var upstreamTLS: UpstreamTLSConfig
    /// Tried in order; the first match wins. At least one route with an upstream is needed to serve.
    public var routes: [RouteConfig]

    public init() {
        self.init(server: ServerConfig())
    }

    public init(
        server: ServerConfig = ServerConfig(),
        store: StoreConfig = StoreConfig(),
        sessions: SessionsConfig = SessionsConfig(),
        cookies: CookiesConfig = CookiesConfig(),
        log: LogConfig = LogConfig(),
        wechat: WeChatConfig = WeChatConfig(),
        admin: AdminConfig = AdminConfig(),
        upstreamTLS: UpstreamTLSConfig = UpstreamTLSConfig(),
        routes: [RouteConfig] = []
    ) {
        self.server = server
        self.store = store
        self.sessions = sessions
        self.cookies = cookies
        self.log = log
        self.wechat = wechat
        self.admin = admin
        self.upstreamTLS = upstreamTLS
        self.routes = routes
    }

    /// The index of the default route: the route named `default`, else the only route; nil when
    /// there is no such route.
    public var defaultRouteIndex: Int? {
        if let index = routes.firstIndex(where: { $0.name == "default" }) { return index }
        return routes.count == 1 ? 0 : nil
    }

    /// Replaces the upstreams of the default route (see ``defaultRouteIndex``); when there is none,
    /// appends a catch-all route named `default` with these upstreams. Returns the route's index.
    @discardableResult
    public mutating func setDefaultRouteUpstreams(_ upstreams: [UpstreamURL]) -> Int {
        if let index = defaultRouteIndex {
            routes[index].upstreams = upstreams
            return index
        }
        routes.append(RouteConfig(name: "default", upstreams: upstreams))
        return routes.count - 1
    }

    /// Every upstream of every route, each once, in route order.
    public var allUpstreams: [UpstreamURL] {
        var seen = Set<UpstreamURL>()
        return routes.flatMap(\.upstreams).filter { seen.insert($0).inserted }
    }
}

/// The table of every section and key. Parsing, environment overrides, command-line overrides,
/// validation and the documentation all derive from it.
///
/// To add a section (`admin:`, `wechat:`, `tls:`), write its struct with defaults and its
/// `configKeys`, add a property to ``GatewayConfig`` and one line here.
enum ConfigRegistry {
    static let sections: [ConfigSection] = [
        ConfigSection("server", \.server, doc: "The public listener.", keys: ServerConfig.configKeys),
        ConfigSection("store", \.store, doc: "Where sessions and jars are kept.", keys: StoreConfig.configKeys),
        ConfigSection("sessions", \.sessions, doc: "Session lifetimes.", keys: SessionsConfig.configKeys),
        ConfigSection("cookies", \.cookies, doc: "Cookie-jar limits.", keys: CookiesConfig.configKeys),
        ConfigSection("log", \.log, doc: "Logging.", keys: LogConfig.configKeys),
        ConfigSection("wechat", \.wechat, doc: "WeChat mini-program login.", keys: WeChatConfig.configKeys),
        ConfigSection("admin", \.admin, doc: "The admin listener: probes, metrics and the sessions API.", keys: AdminConfig.configKeys),
        ConfigSection("upstream_tls", \.upstreamTLS, doc: "TLS towards `https://` upstreams.",
                      keys: UpstreamTLSConfig.configKeys),
    ]

    /// The keys of each item of the `routes:` list.
    static let routeKeys: [ConfigKey<RouteConfig>] = RouteConfig.configKeys

    /// The one environment variable that reaches into `routes:`.
    static let routesUpstreamsVariable = "TOKENJAR_ROUTES_UPSTREAMS"

    static let routesName = "routes"

    /// Every top-level key of the file.
    static var topLevelNames: [String] { sections.map(\.name) + [routesName] }

    static func section(named name: String) -> ConfigSection? {
        sections.first { $0.name == name }
    }

    /// The section and key for `section.key`.
    static func key(at keyPath: String) -> (section: ConfigSection, key: ConfigKey<GatewayConfig>)? {
        let parts = keyPath.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let section = section(named: parts[0]), let key = section.key(named: parts[1]) else {
            return nil
        }
        return (section, key)
    }

    /// Every `section.key` path, for suggestions.
    static var allKeyPaths: [String] {
        sections.flatMap { section in section.keys.map { section.keyPath(of: $0) } }
    }
}
