import CookieEngine
import Logging
import NIOCore
import TokenJarConfig
import TokenJarStore

extension GatewayOptions {
    /// The running form of a validated configuration.
    public init(config: GatewayConfig) throws {
        let server = config.server
        let routes = config.routes.map { route in
            RouteSpec(
                name: route.name,
                host: Self.hostMatch(route.host),
                pathPrefix: route.pathPrefix,
                stripPrefix: route.stripPrefix,
                upstreams: route.upstreams.map {
                    Upstream(host: $0.host, port: $0.port, basePath: $0.basePath, isTLS: $0.scheme == .https)
                },
                mintTokens: route.mint == .auto,
                passSetCookie: route.setCookie == .pass,
                dropClientCookies: route.clientCookies == .drop,
                requiresLogin: route.auth == .wechat,
                connectTimeout: TimeAmount(route.connectTimeout),
                responseTimeout: TimeAmount(route.responseTimeout),
                bodyIdleTimeout: TimeAmount(route.bodyIdleTimeout),
                maxBodyBytes: route.effectiveMaxBodyBytes(server: server))
        }
        var limits = CookieLimits()
        limits.maxCookiesPerJar = config.cookies.maxPerJar
        limits.maxCookiesPerDomain = config.cookies.maxPerDomain
        limits.maxNameValueBytes = config.cookies.maxCookieBytes
        let suffixes = config.cookies.publicSuffixList.isEmpty
            ? PublicSuffixList.default
            : try PublicSuffixList(contentsOfFile: config.cookies.publicSuffixList)
        self.init(
            host: server.listen.host, port: server.listen.port, eventLoops: server.eventLoops,
            routes: RouteTable(routes: routes),
            proxy: ProxySettings(
                tokenHeader: server.tokenHeader,
                identityHeaders: [config.wechat.openIDHeader, config.wechat.unionIDHeader],
                scheme: server.scheme.rawValue,
                trustForwardedProto: server.trustForwardedProto, reservedPrefix: server.reservedPrefix,
                accessLog: config.log.accessLog),
            timeouts: SessionTimeouts(
                idle: Int64(config.sessions.idleTimeout.components.seconds),
                absolute: Int64(config.sessions.absoluteLifetime.components.seconds),
                touchInterval: Int64(config.sessions.touchInterval.components.seconds)),
            cookiePolicy: CookiePolicy(publicSuffixes: suffixes, limits: limits),
            cacheEntries: config.store.cacheEntries,
            sweepInterval: TimeAmount(config.sessions.sweepInterval),
            shutdownGrace: TimeAmount(server.shutdownGrace),
            maxHeaderBytes: server.maxHeaderBytes)
    }

    private static func hostMatch(_ pattern: HostPattern?) -> RouteSpec.HostMatch {
        guard let pattern else { return .any }
        let text = pattern.pattern.lowercased()
        if text.hasPrefix("*.") { return .wildcard(suffix: String(text.dropFirst(1))) }
        return .exact(text)
    }
}

/// Opens the store a configuration names.
public enum StoreFactory {
    public static func open(_ config: StoreConfig, logger: Logger) throws -> any SessionStore {
        switch config.url {
        case .memory:
            return MemorySessionStore()
        case .sqlite(let path):
            var options = SQLiteStoreOptions()
            options.synchronous = config.sqliteSynchronous == .full ? .full : .normal
            return try SQLiteSessionStore(path: path, options: options, logger: logger)
        case .postgres:
            throw StoreError.invalidSpec.with(detail: "the PostgreSQL store is not part of this build yet")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
