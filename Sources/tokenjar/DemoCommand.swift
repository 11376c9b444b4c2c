import ArgumentParser
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import TokenJarConfig
import TokenJarGateway
import TokenJarStore

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the bundled legacy cookie-session app with the gateway in front of it, on SQLite.")

    @Option(help: "Gateway listener, HOST:PORT.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "SQLite file for the demo's sessions.")
    var database: String = "tokenjar-data/demo.db"

    func run() async throws {
        var cfg = GatewayConfig()
        cfg.server.listen = try ListenAddress(parsing: listen)
        cfg.store.url = .sqlite(path: database)
        // The demo keeps its cookies unencrypted, on purpose: it is for trying the gateway out,
        // and its sessions survive a restart (an ephemeral key would make them unreadable).
        cfg.store.allowPlaintext = true
        cfg.log.accessLog = false
        let logger = Bootstrap.logger(cfg.log)

        let backend = DemoBackend()
        let backendChannel = try await backend.start(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton)
        let backendPort = backendChannel.localAddress!.port!
        _ = cfg.setDefaultRouteUpstreams([try UpstreamURL(parsing: "http://127.0.0.1:\(backendPort)")])

        let options = try GatewayOptions(config: cfg)
        let store = try await StoreFactory.open(cfg.store, logger: logger)
        let server = GatewayServer(options: options, store: store, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        async let running: Void = group.run()
        let port = try await server.localAddress.port!
        let base = "http://\(cfg.server.listen.host):\(port)"
        print("""

            TokenJar demo
              backend : a legacy cookie-session app (DEMOSESSID) on 127.0.0.1:\(backendPort)
              gateway : \(base), SQLite store at \(database) (cookies unencrypted: a demo)

            The client keeps no cookies; it only sends the token the gateway hands out.

              # 1. first request: the response carries X-Session-Token
              curl -si \(base)/ | grep -i -e x-session-token -e visits

              TOKEN=$(curl -si \(base)/ | tr -d '\\r' | awk -F': ' 'tolower($1)=="x-session-token"{print $2}')

              # 2. the backend session carries on with only the token header: visits goes up
              curl -s -H "X-Session-Token: $TOKEN" \(base)/
              curl -s -H "X-Session-Token: $TOKEN" \(base)/

              # 3. log in (the backend sets another cookie), then see the user remembered
              curl -s -H "X-Session-Token: $TOKEN" '\(base)/login?user=alice'
              curl -s -H "X-Session-Token: $TOKEN" \(base)/

              # 4. log out: the backend expires DEMOSESSID and the next request starts over
              curl -s -H "X-Session-Token: $TOKEN" \(base)/logout
              curl -s -H "X-Session-Token: $TOKEN" \(base)/

            Stop with Ctrl-C. The jars are in the SQLite file and survive a restart of the gateway;
            the demo app keeps its own sessions in memory, so after a restart it starts over.

            """)
        fflush(nil)  // every output stream: stdout may be a file or a pipe
        try await running
        try await backendChannel.close()
    }
}
