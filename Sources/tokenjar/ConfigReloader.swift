import ArgumentParser
import Logging
import ServiceLifecycle
import TokenJarConfig
import TokenJarGateway
import UnixSignals

/// SIGHUP in `tokenjar serve`: reads the configuration again (file, environment, flags, as at
/// start) and applies routes, upstreams and TLS certificates. A configuration with problems is
/// refused with a log line naming them, and the running one stays. Keys only a restart applies
/// are named in a warning.
struct ConfigReloader: Service, CustomStringConvertible {
    let flags: GatewayFlags
    /// The configuration the process started with: keys outside the reloadable set keep it.
    let started: GatewayConfig
    let server: GatewayServer
    let logger: Logger

    /// How the service group names it in its own log lines: never the configuration it holds.
    var description: String { "ConfigReloader" }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            reload()
        }
    }

    func reload() {
        logger.notice("reloading configuration", metadata: ["file": "\(flags.config ?? "none")"])
        let cfg: GatewayConfig
        let options: GatewayOptions
        do {
            cfg = try flags.load()
            guard !cfg.routes.isEmpty, cfg.routes.allSatisfy({ !$0.upstreams.isEmpty }) else {
                throw ValidationError("routes: at least one route with an upstream is needed")
            }
            options = try GatewayOptions(config: cfg)
            try server.reload(routes: options.routes, tls: options.tls, upstreamTLS: options.upstreamTLS)
        } catch {
            // One line per reload, whatever the number of problems.
            let problem = String(describing: error).split(separator: "\n").joined(separator: "; ")
            logger.error("reload refused; the running configuration stays", metadata: ["problem": "\(problem)"])
            return
        }
        let restart = started.keysNeedingRestart(toApply: cfg)
        if !restart.isEmpty {
            logger.warning("changed keys need a restart to apply", metadata: ["keys": "\(restart.joined(separator: ","))"])
        }
        logger.notice("reloaded", metadata: [
            "routes": "\(cfg.routes.count)",
            "upstreams": "\(cfg.allUpstreams.map(\.description).joined(separator: ","))",
            "tls": "\(started.server.tlsEnabled ? cfg.server.tlsCert : "off")",
        ])
    }
}
