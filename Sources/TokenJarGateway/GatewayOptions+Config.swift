import CookieEngine
import Foundation
import Logging
import NIOCore
import TokenJarConfig
import TokenJarPostgres
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
                maxBodyBytes: route.effectiveMaxBodyBytes(server: server),
                gzip: route.gzip, gzipMinBytes: route.gzipMinBytes)
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
            maxHeaderBytes: server.maxHeaderBytes,
            maxHeaders: server.maxHeaders,
            maxConnections: server.maxConnections,
            headerReadTimeout: TimeAmount(server.headerReadTimeout))
        self.proxy.adoptClientTokens = server.adoptClientTokens
        self.mintRatePerMinute = config.sessions.mintRate
        self.mintBurst = config.sessions.mintBurst
        self.maxSessions = config.sessions.maxSessions
        self.tls = Self.edgeTLSFiles(server)
        self.upstreamTLS = Self.upstreamTLSOptions(config.upstreamTLS)
    }

    /// The listener's certificate files, or nil for plain HTTP.
    public static func edgeTLSFiles(_ server: ServerConfig) -> TLSCertificateFiles? {
        server.tlsEnabled ? TLSCertificateFiles(certificateChain: server.tlsCert, privateKey: server.tlsKey) : nil
    }

    /// How `https://` upstreams are reached.
    public static func upstreamTLSOptions(_ config: UpstreamTLSConfig) -> UpstreamTLSOptions {
        UpstreamTLSOptions(
            caFile: config.caFile.isEmpty ? nil : config.caFile,
            clientCertificate: config.clientCert.isEmpty
                ? nil : TLSCertificateFiles(certificateChain: config.clientCert, privateKey: config.clientKey))
    }

    private static func hostMatch(_ pattern: HostPattern?) -> RouteSpec.HostMatch {
        guard let pattern else { return .any }
        let text = pattern.pattern.lowercased()
        if text.hasPrefix("*.") { return .wildcard(suffix: String(text.dropFirst(1))) }
        return .exact(text)
    }
}

/// Opens the store a configuration names, with encryption at rest when keys are configured.
public enum StoreFactory {
    /// Checks the encryption settings first (nothing is opened when they are wrong), then opens the
    /// store: a SQLite file is opened and migrated, a PostgreSQL database is connected to and
    /// migrated (waiting a little while for it). With `encryption_keys` the store is wrapped in a
    /// `SealingSessionStore`; without, `allow_plaintext` must say so (the memory store keeps
    /// nothing at rest: it needs neither, and is never sealed).
    public static func open(_ config: StoreConfig, logger: Logger) async throws -> any SessionStore {
        let keyring = try keyring(config, logger: logger)
        let store: any SessionStore
        switch config.url {
        case .memory:
            store = MemorySessionStore()
        case .sqlite(let path):
            var options = SQLiteStoreOptions()
            options.synchronous = config.sqliteSynchronous == .full ? .full : .normal
            store = try SQLiteSessionStore(path: path, options: options, logger: logger)
        case .postgres(let url):
            store = try await PostgresSessionStore.open(try postgresOptions(url, config), logger: logger)
        }
        // The memory store keeps nothing at rest: sealing it would cost every write a cipher
        // pass and protect nothing (the keys are still checked above).
        guard let keyring, !(store is MemorySessionStore) else { return store }
        return SealingSessionStore(wrapping: store, keyring: keyring, logger: logger)
    }

    /// The keys to seal with, or nil for an explicit (or, for memory, harmless) plaintext store.
    static func keyring(_ config: StoreConfig, logger: Logger) throws -> SealingKeyring? {
        let keys = config.encryptionKeys.trimmingCharacters(in: .whitespacesAndNewlines)
        if !keys.isEmpty {
            let keyring: SealingKeyring
            do {
                keyring = try SealingKeyring(parsing: keys)
            } catch let error as StoreError {
                throw StoreSetupError.invalidKeys(error.detail ?? "\(error)")
            }
            logger.notice("store encryption on", metadata: [
                "cipher": "AES-256-GCM", "sealing_key_id": "\(keyring.currentID)", "keys": "\(keyring.ids.count)",
            ])
            return keyring
        }
        if case .memory = config.url { return nil }
        guard config.allowPlaintext else { throw StoreSetupError.noEncryptionKey }
        logger.warning(
            "cookie values and session keys are stored unencrypted (store.allow_plaintext); set store.encryption_keys to encrypt them")
        return nil
    }

    /// The PostgreSQL store's options from its URL and the `store` section. URL parameters:
    /// `sslmode` (disable, prefer, require, verify-full), `application_name`, `connect_timeout`
    /// (seconds).
    public static func postgresOptions(_ url: PostgresURL, _ config: StoreConfig) throws -> PostgresStoreOptions {
        var options = PostgresStoreOptions(
            host: url.host, port: url.port, user: url.user, password: url.password, database: url.database,
            maxConnections: config.postgresPoolSize, acquireTimeout: config.postgresAcquireTimeout,
            statementTimeout: config.postgresStatementTimeout)
        options.lanesPerLoop = config.postgresLanesPerLoop
        for parameter in url.parameters {
            switch parameter.name.lowercased() {
            case "sslmode":
                guard let mode = PostgresStoreOptions.TLSMode(rawValue: parameter.value.lowercased()) else {
                    throw StoreSetupError.invalidURL("sslmode must be disable, prefer, require or verify-full")
                }
                options.tls = mode
            case "application_name":
                options.applicationName = parameter.value
            case "connect_timeout":
                guard let seconds = Int(parameter.value), seconds > 0 else {
                    throw StoreSetupError.invalidURL("connect_timeout is a whole number of seconds")
                }
                options.connectTimeout = .seconds(seconds)
            default:
                throw StoreSetupError.invalidURL(
                    "unknown parameter '\(parameter.name)' (known: sslmode, application_name, connect_timeout)")
            }
        }
        return options
    }
}

/// Why the store was not opened: settings that need fixing before the gateway can start.
public struct StoreSetupError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case noEncryptionKey
        case invalidKeys
        case invalidURL
    }

    private let kind: Kind
    private let detail: String

    private init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// No `encryption_keys` and no `allow_plaintext: true`.
    public static let noEncryptionKey = StoreSetupError(.noEncryptionKey, "")
    /// `encryption_keys` does not parse (the detail never shows a key).
    static func invalidKeys(_ detail: String) -> Self { .init(.invalidKeys, detail) }
    /// A PostgreSQL URL parameter is unknown or malformed.
    static func invalidURL(_ detail: String) -> Self { .init(.invalidURL, detail) }

    public static func == (a: Self, b: Self) -> Bool { a.kind == b.kind }
    public func hash(into hasher: inout Hasher) { hasher.combine(kind) }

    public var description: String {
        switch kind {
        case .noEncryptionKey:
            return """
                no encryption key for the session store: set store.encryption_keys \
                (TOKENJAR_STORE_ENCRYPTION_KEYS=1:<32 random bytes in base64, e.g. from `openssl rand -base64 32`>), \
                or keep cookie values unencrypted on purpose with store.allow_plaintext: true \
                (TOKENJAR_STORE_ALLOW_PLAINTEXT=true)
                """
        case .invalidKeys:
            return "store.encryption_keys: \(detail)"
        case .invalidURL:
            return "store.url: \(detail)"
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
