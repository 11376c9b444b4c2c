import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import TokenJarGateway
import TokenJarStore

/// How the admin listener runs.
public struct AdminSettings: Sendable {
    public var host: String
    public var port: Int
    /// The bearer token of the sessions API; nil or empty keeps the sessions API closed.
    public var token: String?
    /// Time one upstream gets to accept a TCP connection in `/readyz`.
    public var upstreamProbeTimeout: TimeAmount
    /// Time the store gets to answer a ping (`/readyz`) or its counts (`/metrics`).
    public var storeTimeout: TimeAmount

    public init(host: String = "127.0.0.1", port: Int = 9090, token: String? = nil,
                upstreamProbeTimeout: TimeAmount = .milliseconds(500), storeTimeout: TimeAmount = .seconds(2)) {
        self.host = host
        self.port = port
        self.token = token
        self.upstreamProbeTimeout = upstreamProbeTimeout
        self.storeTimeout = storeTimeout
    }
}

/// The admin listener, on a port of its own: `/healthz`, `/readyz`, `/metrics` and the sessions
/// API. It runs as a service in the gateway's service group, so graceful shutdown stops it too.
public final class AdminServer: Service, Sendable {
    public let settings: AdminSettings
    let gateway: GatewayServer
    let store: any SessionStore
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    private let bound: EventLoopPromise<SocketAddress>
    private let boundSettled = NIOLockedValueBox(false)

    /// `store` is the gateway's store; `registry` is the one the gateway's metrics factory fills.
    public init(settings: AdminSettings, gateway: GatewayServer, store: any SessionStore,
                registry: PrometheusCollectorRegistry, logger: Logger) {
        self.settings = settings
        self.gateway = gateway
        self.store = store
        self.registry = registry
        self.logger = logger
        self.bound = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: SocketAddress.self)
    }

    /// The address the admin listener bound (useful with port 0).
    public var localAddress: SocketAddress {
        get async throws { try await bound.futureResult.get() }
    }

    public func run() async throws {
        let router = Router()
        let probes = AdminProbes(gateway: gateway, store: store, settings: settings)
        probes.register(on: router)
        AdminMetricsEndpoint(gateway: gateway, store: store, registry: registry, timeout: settings.storeTimeout)
            .register(on: router)
        AdminSessionsAPI(gateway: gateway, store: store, auth: AdminAuth(token: settings.token), logger: logger)
            .register(on: router)
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "tokenjar-admin"),
            onServerRunning: { channel in
                if let address = channel.localAddress {
                    self.settle(.success(address))
                    logger.notice("admin listening", metadata: ["address": "\(address)"])
                }
            },
            logger: logger)
        do {
            try await app.run()
        } catch {
            settle(.failure(error))
            throw error
        }
        settle(.failure(AdminStopped()))
    }

    /// Completes `localAddress` once: with the bound address, or with why there is none.
    private func settle(_ result: Result<SocketAddress, any Error>) {
        let first = boundSettled.withLockedValue { settled in
            defer { settled = true }
            return !settled
        }
        if first { bound.completeWith(result) }
    }
}

struct AdminStopped: Error {}
