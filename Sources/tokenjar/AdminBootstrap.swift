import CoreMetrics
import Logging
import Prometheus
import TokenJarAdmin
import TokenJarConfig
import TokenJarGateway
import TokenJarStore

/// The metrics system and the admin listener of `tokenjar serve`.
enum AdminBootstrap {
    /// Bootstraps swift-metrics, once per process, with a Prometheus registry, and returns it.
    static func metrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// The admin listener, when `admin.listen` is set.
    static func service(_ config: AdminConfig, gateway: GatewayServer, store: any SessionStore,
                        registry: PrometheusCollectorRegistry, logger: Logger) -> AdminServer? {
        guard let listen = config.listen else { return nil }
        if config.token.isEmpty {
            logger.notice("admin token unset: the sessions API answers 401 (set TOKENJAR_ADMIN_TOKEN)")
        }
        let settings = AdminSettings(host: listen.host, port: listen.port, token: config.token)
        return AdminServer(settings: settings, gateway: gateway, store: store, registry: registry, logger: logger)
    }
}
