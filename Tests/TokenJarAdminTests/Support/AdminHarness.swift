import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import TokenJarAdmin
import TokenJarGateway
import TokenJarStore
import TokenJarTestSupport

/// A backend, a gateway and its admin listener in one service group, on loopback ports, with
/// metrics in a registry of their own.
final class AdminHarness: Sendable {
    static let adminToken = "admin-token-for-tests-0123456789"

    let backend: TestBackend
    let gateway: GatewayServer
    let admin: AdminServer
    let registry: PrometheusCollectorRegistry
    let store: any SessionStore
    let serviceGroup: ServiceGroup
    let task: Task<Void, any Error>
    let gatewayPort: Int
    let adminPort: Int

    /// `routes` gets the backend's upstream; the default is one catch-all route named `default`.
    static func start(
        store: any SessionStore = MemorySessionStore(),
        token: String? = adminToken,
        routes: @Sendable (Upstream) -> [RouteSpec] = { [RouteSpec(name: "default", upstreams: [$0])] },
        respond: @escaping @Sendable (ReceivedRequest) -> BackendResponse = { _ in BackendResponse() }
    ) async throws -> AdminHarness {
        let backend = try await TestBackend.start(respond)
        let logger = Logger(label: "admin-test")
        var options = GatewayOptions(
            host: "127.0.0.1", port: 0, eventLoops: 2,
            routes: RouteTable(routes: routes(upstream(backend.port))))
        options.proxy.accessLog = false
        let registry = PrometheusCollectorRegistry()
        let gateway = GatewayServer(
            options: options, store: store, logger: logger, metricsFactory: PrometheusMetricsFactory(registry: registry))
        let admin = AdminServer(
            settings: AdminSettings(host: "127.0.0.1", port: 0, token: token, upstreamProbeTimeout: .milliseconds(300),
                                    storeTimeout: .milliseconds(500)),
            gateway: gateway, store: store, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [gateway, admin], logger: logger))
        let task = Task { try await group.run() }
        let gatewayPort = try await gateway.localAddress.port!
        let adminPort = try await admin.localAddress.port!
        return AdminHarness(
            backend: backend, gateway: gateway, admin: admin, registry: registry, store: store, serviceGroup: group,
            task: task, gatewayPort: gatewayPort, adminPort: adminPort)
    }

    private init(backend: TestBackend, gateway: GatewayServer, admin: AdminServer, registry: PrometheusCollectorRegistry,
                 store: any SessionStore, serviceGroup: ServiceGroup, task: Task<Void, any Error>, gatewayPort: Int, adminPort: Int) {
        self.backend = backend
        self.gateway = gateway
        self.admin = admin
        self.registry = registry
        self.store = store
        self.serviceGroup = serviceGroup
        self.task = task
        self.gatewayPort = gatewayPort
        self.adminPort = adminPort
    }

    /// Graceful shutdown of both listeners, then the backend.
    func stop() async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await task.value
        await backend.stop()
    }

    /// A request to the public listener, with the token when given.
    func proxy(_ path: String = "/", token: String? = nil) async throws -> ClientResponse {
        try await TestHTTPClient.request(
            port: gatewayPort, path: path, headers: token.map { [("X-Session-Token", $0)] } ?? [])
    }

    /// A request to the admin listener; `bearer` nil sends no Authorization header.
    func adminRequest(_ method: HTTPMethod = .GET, _ path: String, bearer: String? = adminToken) async throws -> ClientResponse {
        try await TestHTTPClient.request(
            port: adminPort, method: method, path: path,
            headers: bearer.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    /// The base URL of the admin listener.
    var adminURL: String { "http://127.0.0.1:\(adminPort)" }
}

extension ClientResponse {
    /// The body parsed as a JSON object.
    var json: [String: Any] {
        get throws { try JSONBody.object(body) }
    }
}
