import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TokenJarConfig
import TokenJarGateway
import TokenJarStore
import TokenJarWeChat

/// Flags shared by the commands that run a gateway.
struct GatewayFlags: ParsableArguments {
    @Option(help: "Public listener, HOST:PORT (server.listen).")
    var listen: String?

    @Option(help: "Backend instance URL, http://HOST:PORT[/base]; repeat for several instances of one backend.")
    var upstream: [String] = []

    @Option(help: "Session store: memory | sqlite:PATH | postgres://user@host:port/db (store.url).")
    var store: String?

    @Option(name: .customLong("token-header"), help: "Header that carries the client token (server.token_header).")
    var tokenHeader: String?

    @Option(name: .customLong("admin-listen"), help: ArgumentHelp(
        "Admin listener (probes, /metrics, sessions API), HOST:PORT; never the public port (admin.listen).",
        valueName: "HOST:PORT"))
    var adminListen: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS, with HTTP/2 by ALPN (server.tls_cert).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (server.tls_key).")
    var tlsKey: String?

    @Option(help: "YAML configuration file; flags override it, and TOKENJAR_<SECTION>_<KEY> variables override the file.")
    var config: String?

    /// Defaults < file < environment < flags.
    func load() throws -> GatewayConfig {
        let env = ProcessInfo.processInfo.environment
        var cfg: GatewayConfig
        do {
            cfg = try config.map { try ConfigLoader.load(file: $0, environment: env) } ?? ConfigLoader.defaults(environment: env)
        } catch let errors as ConfigErrors {
            throw ValidationError(errors.problems.map { ($0.description) }.joined(separator: "\n"))
        }
        do {
            if let listen { cfg.server.listen = try ListenAddress(parsing: listen) }
            if let store { cfg.store.url = try StoreURL(parsing: store) }
            if let adminListen { cfg.admin.listen = try ListenAddress(parsing: adminListen) }
            if let tokenHeader { cfg.server.tokenHeader = tokenHeader }
            if let tlsCert { cfg.server.tlsCert = tlsCert }
            if let tlsKey { cfg.server.tlsKey = tlsKey }
            if !upstream.isEmpty {
                _ = cfg.setDefaultRouteUpstreams(try upstream.map { try UpstreamURL(parsing: $0) })
            }
        } catch {
            throw ValidationError("\(error)")
        }
        // The flags are held to the file's rules too (an admin listener on the public port).
        do {
            try cfg.validate()
        } catch {
            throw ValidationError(error.problems.map(\.description).joined(separator: "\n"))
        }
        return cfg
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: one cookie jar per client token, in front of a cookie-session backend.",
        discussion: """
            Quick start:  tokenjar serve --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000
            The store defaults to a SQLite file (store.url, "sqlite:tokenjar.db"). SIGTERM or SIGINT
            stop accepting, let in-flight requests finish (server.shutdown_grace) and flush the store.
            SIGHUP re-reads the configuration: routes, upstreams and TLS certificates change without
            dropping connections; a file with problems is refused and the running configuration stays.
            """)

    @OptionGroup var flags: GatewayFlags

    func run() async throws {
        // SIGHUP means "reload", never "exit", even before the reloader listens for it.
        signal(SIGHUP, SIG_IGN)
        let cfg = try flags.load()
        guard !cfg.routes.isEmpty, cfg.routes.allSatisfy({ !$0.upstreams.isEmpty }) else {
            throw ValidationError("no upstream: give --upstream URL or routes in --config")
        }
        let logger = Bootstrap.logger(cfg.log)
        let options = try GatewayOptions(config: cfg)
        let store = try await StoreFactory.open(cfg.store, logger: logger)
        logger.notice("starting", metadata: [
            "store": "\(cfg.store.url)", "routes": "\(cfg.routes.count)",
            "upstreams": "\(cfg.allUpstreams.map(\.description).joined(separator: ","))",
        ])
        // Logout always; WeChat login, decryption and phone numbers when wechat.appid is set.
        let endpoints = WeChatEndpoints(settings: WeChatSettings(config: cfg.wechat), logger: logger)
        if cfg.wechat.isEnabled {
            logger.notice("wechat login on", metadata: ["appid": "\(cfg.wechat.appID)", "api": "\(cfg.wechat.apiBase)"])
        }
        let registry = AdminBootstrap.metrics()
        let server = GatewayServer(options: options, store: store, logger: logger, endpoints: endpoints)
        // Services stop in reverse order: the admin listener first (readiness fails at once),
        // then the reloader, then the gateway drains, then the WeChat client closes.
        let reloader = ConfigReloader(flags: flags, started: cfg, server: server, logger: logger)
        var services: [any Service] = [endpoints, server, reloader]
        if let admin = AdminBootstrap.service(cfg.admin, gateway: server, store: store, registry: registry, logger: logger) {
            services.append(admin)
        }
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

enum Bootstrap {
    /// Configures swift-log once, from the log section, and returns the gateway's logger.
    static func logger(_ config: LogConfig) -> Logger {
        let json = config.format == .json
        let level = Logger.Level(rawValue: config.level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "tokenjar")
    }
}
