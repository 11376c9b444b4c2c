import CookieEngine
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import TokenJarStore

/// How a gateway process runs: listener, threads, routes, sessions, limits.
public struct GatewayOptions: Sendable {
    public var host: String
    public var port: Int
    /// Event-loop threads; 0 means one per core.
    public var eventLoops: Int
    public var routes: RouteTable
    public var proxy: ProxySettings
    public var timeouts: SessionTimeouts
    public var cookiePolicy: CookiePolicy
    public var cacheEntries: Int
    public var sweepInterval: TimeAmount
    public var shutdownGrace: TimeAmount
    public var maxHeaderBytes: Int
    /// Most header fields in one request head.
    public var maxHeaders: Int
    /// Client connections open at once; more are closed as soon as they are accepted.
    public var maxConnections: Int
    /// Time a client has to send a whole request head, on a new or an idle keep-alive connection.
    public var headerReadTimeout: TimeAmount
    /// The listener's certificate: HTTPS with HTTP/2 and HTTP/1.1 by ALPN; nil for plain HTTP.
    public var tls: TLSCertificateFiles?
    /// Trust and client certificate for `https://` upstreams.
    public var upstreamTLS: UpstreamTLSOptions = UpstreamTLSOptions()
    /// New sessions one client address may mint per minute; 0 = no limit.
    public var mintRatePerMinute: Int = 0
    /// New sessions one client address may mint at once.
    public var mintBurst: Int = 60
    /// Most stored sessions; 0 = no cap.
    public var maxSessions: Int = 0

    public init(
        host: String = "127.0.0.1", port: Int = 8080, eventLoops: Int = 0, routes: RouteTable,
        proxy: ProxySettings = ProxySettings(), timeouts: SessionTimeouts = SessionTimeouts(),
        cookiePolicy: CookiePolicy = .default, cacheEntries: Int = 100_000,
        sweepInterval: TimeAmount = .seconds(60), shutdownGrace: TimeAmount = .seconds(10),
        maxHeaderBytes: Int = 32 * 1024, maxHeaders: Int = 100, maxConnections: Int = 10_000,
        headerReadTimeout: TimeAmount = .seconds(10), tls: TLSCertificateFiles? = nil
    ) {
        self.host = host
        self.port = port
        self.eventLoops = eventLoops
        self.routes = routes
        self.proxy = proxy
        self.timeouts = timeouts
        self.cookiePolicy = cookiePolicy
        self.cacheEntries = cacheEntries
        self.sweepInterval = sweepInterval
        self.shutdownGrace = shutdownGrace
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
        self.maxConnections = maxConnections
        self.headerReadTimeout = headerReadTimeout
        self.tls = tls
    }
}

/// The public listener and its data plane, run as a service: on graceful shutdown it stops
/// accepting, lets in-flight requests finish up to the grace period, then flushes the store.
public final class GatewayServer: Service, Sendable {
    public let options: GatewayOptions
    /// The gateway's metrics (requests, upstream latency, tokens, jar writes, store errors).
    public let metrics: GatewayMetrics
    let env: GatewayEnvironment
    private let store: any SessionStore
    private let group: MultiThreadedEventLoopGroup
    private let bound: EventLoopPromise<SocketAddress>
    /// The listener's TLS context (empty until `run` loads it); a reload replaces it.
    private let edgeTLS = ReloadableTLSContext(nil)
    /// The context for `https://` upstreams (empty until `run` loads it); a reload replaces it.
    private let upstreamTLS = ReloadableTLSContext(nil)

    /// `metricsFactory` receives the gateway's metrics; by default the factory `MetricsSystem`
    /// was bootstrapped with (none: the metrics go nowhere).
    public init(options: GatewayOptions, store: any SessionStore, logger: Logger,
                clock: any GatewayClock = SystemGatewayClock(), endpoints: (any GatewayEndpoints)? = nil,
                metricsFactory: (any MetricsFactory)? = nil) {
        self.options = options
        self.store = store
        let threads = options.eventLoops > 0 ? options.eventLoops : System.coreCount
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let metrics = GatewayMetrics(
            routeNames: options.routes.routes.map(\.name), factory: metricsFactory ?? MetricsSystem.factory)
        self.metrics = metrics
        let sessions = SessionManager(
            store: store, policy: options.cookiePolicy, timeouts: options.timeouts, clock: clock,
            cacheEntries: options.cacheEntries, metrics: metrics)
        self.env = GatewayEnvironment(
            sessions: sessions, settings: Self.effectiveSettings(options), routes: options.routes, logger: logger, endpoints: endpoints,
            maxConnections: options.maxConnections, headerReadTimeout: options.headerReadTimeout,
            mintLimiter: MintRateLimiter(perMinute: options.mintRatePerMinute, burst: options.mintBurst),
            sessionCap: SessionCap(limit: options.maxSessions, store: store, sessions: sessions))
        if options.proxy.adoptClientTokens {
            logger.warning("server.adopt_client_tokens is on: client-chosen tokens become sessions (load benchmarks only, never in production)")
        }
        self.bound = group.any().makePromise(of: SocketAddress.self)
    }

    /// The proxy settings in force: a listener that serves HTTPS tells backends (and the cookie
    /// jar's `Secure` rule) that clients use `https`.
    static func effectiveSettings(_ options: GatewayOptions) -> ProxySettings {
        var settings = options.proxy
        if options.tls != nil { settings.scheme = "https" }
        return settings
    }

    /// The address the listener bound (useful with port 0).
    public var localAddress: SocketAddress {
        get async throws { try await bound.futureResult.get() }
    }

    /// Swaps the routes (a reload); requests already under way keep the route they matched.
    public func replaceRoutes(_ routes: RouteTable) { env.replaceRoutes(routes) }

    /// Applies a reloaded configuration: new TLS contexts are made first, so a bad certificate
    /// changes nothing; then certificates and routes are swapped. Connections already open keep
    /// their certificate; requests under way keep their route. The listener's certificate applies
    /// only when it serves HTTPS (turning TLS on or off needs a restart).
    public func reload(routes: RouteTable, tls: TLSCertificateFiles?, upstreamTLS upstream: UpstreamTLSOptions) throws {
        let edge = try options.tls == nil ? nil : tls.map { try $0.makeServerContext() }
        let client = try upstream.makeContext(for: routes)
        if let edge { edgeTLS.replace(with: edge) }
        upstreamTLS.replace(with: client)
        env.replaceRoutes(routes)
    }

    /// Requests currently between head and end.
    public var inFlight: Int { env.inFlight }

    /// The routes in use now.
    public var routes: RouteTable { env.routes }

    /// Drops sessions from the gateway's write-through cache, after they were removed from the
    /// store behind its back (an admin revoke). Without this, a cached jar would keep serving
    /// a revoked token.
    public func forgetCachedSessions(_ hashes: some Sequence<TokenHash>) {
        for hash in hashes { env.sessions.forget(hash) }
    }

    public func run() async throws {
        let logger = env.logger
        do {
            edgeTLS.replace(with: try options.tls?.makeServerContext())
            upstreamTLS.replace(with: try options.upstreamTLS.makeContext(for: options.routes))
        } catch {
            bound.fail(error)
            try await group.shutdownGracefully()
            throw error
        }
        var pools: [ObjectIdentifier: NIOLoopBound<UpstreamPool>] = [:]
        let upstreamTLS = self.upstreamTLS
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = try await loop.submit {
                NIOLoopBound(UpstreamPool(loop: loop, tls: upstreamTLS, logger: logger), eventLoop: loop)
            }.get()
        }
        let loopPools = pools
        let env = self.env
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = options.maxHeaderBytes
        limits.maxHeaderFieldSize = options.maxHeaderBytes
        limits.maxHeaderFieldCount = options.maxHeaders
        let edge = EdgePipeline(
            env: env, decoderLimits: limits, tls: options.tls == nil ? nil : edgeTLS,
            maxHeaderBytes: options.maxHeaderBytes)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 512)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    guard env.connectionOpened() else {
                        env.logger.warning("connection limit reached; closing a new connection")
                        return channel.close()
                    }
                    channel.closeFuture.whenComplete { _ in env.connectionClosed() }
                    return channel.eventLoop.makeCompletedFuture {
                        try edge.configure(channel, pool: loopPools[ObjectIdentifier(channel.eventLoop)]!.value)
                    }
                }
                .bind(host: options.host, port: options.port)
                .get()
        } catch {
            bound.fail(error)
            try await group.shutdownGracefully()
            throw error
        }
        bound.succeed(channel.localAddress!)
        logger.notice("listening", metadata: [
            "address": "\(channel.localAddress!)", "protocols": "\(options.tls == nil ? "http/1.1" : "h2,http/1.1 over TLS")",
        ])

        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.sweepLoop() }
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
            tasks.cancelAll()
        }
        logger.notice("draining", metadata: ["in_flight": "\(env.inFlight)"])
        await drain()
        for loop in group.makeIterator() {
            try? await loop.submit { loopPools[ObjectIdentifier(loop)]!.value.closeAll() }.get()
        }
        do {
            try await store.shutdown()
        } catch {
            logger.error("store shutdown failed", metadata: ["error": "\(error)"])
        }
        try await group.shutdownGracefully()
        logger.notice("stopped")
    }

    /// Waits until no request is in flight, or the grace period ends.
    private func drain() async {
        let end = NIODeadline.now() + options.shutdownGrace
        while env.inFlight > 0, NIODeadline.now() < end {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    private func sweepLoop() async {
        let interval = UInt64(max(1, options.sweepInterval.nanoseconds))
        await refreshSessionCount()
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: interval)
            if Task.isCancelled { return }
            do {
                let removed = try await store.sweep(now: env.sessions.clock.nowSeconds())
                if removed > 0 { env.logger.info("swept expired sessions", metadata: ["count": "\(removed)"]) }
            } catch {
                metrics.storeFailed()
                env.logger.warning("sweep failed", metadata: ["error": "\(error)"])
            }
            await refreshSessionCount()
        }
    }

    /// The session cap's estimate is replaced by the store's count (one count per sweep).
    private func refreshSessionCount() async {
        guard let cap = env.sessionCap else { return }
        do {
            cap.refresh(storedSessions: try await store.stats().sessions)
        } catch {
            env.logger.warning("session count failed", metadata: ["error": "\(error)"])
        }
    }
}
