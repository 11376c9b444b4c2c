import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TokenJarGateway
import TokenJarStore

/// `/healthz` and `/readyz`.
///
/// Readiness is the store: 200 when it answers a ping within the store timeout, else 503. The
/// body also lists every upstream of the current routes with whether it accepted a TCP
/// connection within the probe timeout (checked at once, in parallel, on each call). An
/// unreachable upstream does not make the gateway unready: other routes may still be served,
/// and a failed-over request still gets an answer.
struct AdminProbes: Sendable {
    let gateway: GatewayServer
    let store: any SessionStore
    let settings: AdminSettings

    struct UpstreamState: Encodable, Sendable {
        var routes: [String]
        var upstream: String
        var reachable: Bool
    }

    struct Readiness: Encodable, Sendable {
        var status: String
        var store: String
        var upstreams: [UpstreamState]
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in
            AdminJSON.response(.ok, #"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, _ in
            let readiness = await readiness()
            return AdminJSON.response(readiness.status == "ready" ? .ok : .serviceUnavailable, encoding: readiness)
        }
    }

    func readiness() async -> Readiness {
        async let storeUp = storeAnswers()
        let upstreams = await upstreamStates()
        let up = await storeUp
        if !up { gateway.metrics.storeFailed() }
        return Readiness(status: up ? "ready" : "unready", store: up ? "ok" : "unavailable", upstreams: upstreams)
    }

    private func storeAnswers() async -> Bool {
        let store = self.store
        return (try? await withTimeout(settings.storeTimeout) { try await store.ping() }) != nil
    }

    /// Each distinct upstream once, with the routes that use it.
    private func upstreamStates() async -> [UpstreamState] {
        var order: [Upstream] = []
        var routesOf: [Upstream: [String]] = [:]
        for route in gateway.routes.routes {
            for upstream in route.upstreams {
                if routesOf[upstream] == nil { order.append(upstream) }
                routesOf[upstream, default: []].append(route.name)
            }
        }
        let timeout = settings.upstreamProbeTimeout
        let reachable = await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, upstream) in order.enumerated() {
                group.addTask { (index, await Self.accepts(upstream, timeout: timeout)) }
            }
            var results = Array(repeating: false, count: order.count)
            for await (index, ok) in group { results[index] = ok }
            return results
        }
        return order.enumerated().map { index, upstream in
            UpstreamState(routes: routesOf[upstream] ?? [], upstream: upstream.description, reachable: reachable[index])
        }
    }

    /// Whether the upstream accepts a TCP connection in time (closed again at once).
    static func accepts(_ upstream: Upstream, timeout: TimeAmount) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(host: upstream.host, port: upstream.port)
                .get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }
}

struct TimedOut: Error {}

/// Runs `body`, giving up with `TimedOut` after `timeout`. The caller is answered at the
/// deadline even when `body` ignores cancellation (a store call stuck on the network); `body`
/// is cancelled and left to finish on its own.
func withTimeout<T: Sendable>(_ timeout: TimeAmount, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let pending = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
    @Sendable func finish(_ result: Result<T, any Error>) {
        let continuation = pending.withLockedValue { stored in
            defer { stored = nil }
            return stored
        }
        continuation?.resume(with: result)
    }
    return try await withCheckedThrowingContinuation { continuation in
        pending.withLockedValue { $0 = continuation }
        let work = Task {
            do { finish(.success(try await body())) } catch { finish(.failure(error)) }
        }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(max(0, timeout.nanoseconds)))
            finish(.failure(TimedOut()))
            work.cancel()
        }
    }
}
