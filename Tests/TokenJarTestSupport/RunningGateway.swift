import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TokenJarStore
import TokenJarGateway

/// A gateway served in-process on 127.0.0.1 port 0, for end-to-end tests.
public final class RunningGateway: Sendable {
    public let server: GatewayServer
    public let serviceGroup: ServiceGroup
    public let task: Task<Void, any Error>
    public let port: Int

    public static func start(
        routes: [RouteSpec], store: any SessionStore = MemorySessionStore(),
        configure: (inout GatewayOptions) -> Void = { _ in }, logger: Logger = Logger(label: "test"),
        endpoints: (any GatewayEndpoints)? = nil, clock: any GatewayClock = SystemGatewayClock()
    ) async throws -> RunningGateway {
        var options = GatewayOptions(host: "127.0.0.1", port: 0, eventLoops: 2, routes: RouteTable(routes: routes))
        options.proxy.accessLog = false
        configure(&options)
        let server = GatewayServer(options: options, store: store, logger: logger, clock: clock, endpoints: endpoints)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let task = Task { try await group.run() }
        let address = try await server.localAddress
        return RunningGateway(server: server, serviceGroup: group, task: task, port: address.port!)
    }

    private init(server: GatewayServer, serviceGroup: ServiceGroup, task: Task<Void, any Error>, port: Int) {
        self.server = server
        self.serviceGroup = serviceGroup
        self.task = task
        self.port = port
    }

    /// Graceful shutdown, as on SIGTERM; returns once the server has stopped.
    public func stop() async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await task.value
    }
}

/// A backend instance at `port` on loopback.
public func upstream(_ port: Int) -> Upstream { Upstream(host: "127.0.0.1", port: port) }

/// Shared event loops for test clients and backends.
public let testGroup = MultiThreadedEventLoopGroup.singleton
