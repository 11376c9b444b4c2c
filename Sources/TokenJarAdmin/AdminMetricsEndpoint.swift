import Hummingbird
import NIOCore
import Prometheus
import TokenJarGateway
import TokenJarStore

/// `GET /metrics`: the Prometheus text of the registry the gateway's metrics go to.
///
/// The session gauges come from the store's counts, read at each scrape (bounded by the store
/// timeout); when the store does not answer they keep their last values and
/// `tokenjar_store_errors_total` grows.
struct AdminMetricsEndpoint: Sendable {
    let gateway: GatewayServer
    let store: any SessionStore
    let registry: PrometheusCollectorRegistry
    let timeout: TimeAmount

    func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in
            await refreshSessionGauges()
            var text: [UInt8] = []
            text.reserveCapacity(8 * 1024)
            registry.emit(into: &text)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
    }

    private func refreshSessionGauges() async {
        let store = self.store
        do {
            let stats = try await withTimeout(timeout) { try await store.stats() }
            gateway.metrics.update(from: stats)
        } catch {
            gateway.metrics.storeFailed()
        }
    }
}
