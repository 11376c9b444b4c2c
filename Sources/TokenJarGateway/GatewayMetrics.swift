import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore
import TokenJarStore

/// The gateway's metrics, made through a swift-metrics factory (a Prometheus registry in the
/// executable, any factory in tests).
///
/// Every metric object is made once: the request counters per route and status class when the
/// gateway starts (and once for a route name first seen after a reload), so counting a request
/// builds no string and allocates nothing.
public final class GatewayMetrics: Sendable {
    /// Route label of requests no route took: the gateway's own endpoints and `no_route` answers.
    public static let noRoute = "-"

    /// The request counters of one route, one per status class (1xx … 5xx).
    struct RouteSeries: Sendable {
        let byClass: [Counter]

        init(route: String, factory: any MetricsFactory) {
            byClass = (1...5).map { digit in
                Counter(label: "tokenjar_requests_total", dimensions: [("route", route), ("status", "\(digit)xx")], factory: factory)
            }
        }

        @inline(__always)
        func count(status: UInt) {
            let index = min(max(Int(status / 100), 1), 5) - 1
            byClass[index].increment()
        }
    }

    private let factory: any MetricsFactory
    private let known: [String: RouteSeries]
    private let unmatched: RouteSeries
    private let late: NIOLockedValueBox<[String: RouteSeries]>
    let upstreamDuration: Timer
    let tokensMinted: Counter
    let jarWrites: Counter
    let storeErrors: Counter
    let activeSessions: Gauge
    let loggedInSessions: Gauge
    let storedCookies: Gauge

    /// Metrics for the given route names, made through `factory` (by default the factory
    /// `MetricsSystem` was bootstrapped with).
    public init(routeNames: [String] = [], factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        var known: [String: RouteSeries] = [:]
        for name in routeNames where known[name] == nil {
            known[name] = RouteSeries(route: name, factory: factory)
        }
        self.known = known
        self.unmatched = RouteSeries(route: Self.noRoute, factory: factory)
        self.late = NIOLockedValueBox([:])
        upstreamDuration = Timer(label: "tokenjar_upstream_duration_seconds", factory: factory)
        tokensMinted = Counter(label: "tokenjar_tokens_minted_total", factory: factory)
        jarWrites = Counter(label: "tokenjar_jar_writes_total", factory: factory)
        storeErrors = Counter(label: "tokenjar_store_errors_total", factory: factory)
        activeSessions = Gauge(label: "tokenjar_active_sessions", factory: factory)
        loggedInSessions = Gauge(label: "tokenjar_logged_in_sessions", factory: factory)
        storedCookies = Gauge(label: "tokenjar_stored_cookies", factory: factory)
    }

    /// Metrics that go nowhere.
    public static var disabled: GatewayMetrics { GatewayMetrics(factory: NOOPMetricsHandler.instance) }

    /// One finished request: its route (nil when none took it), the status sent, and the time
    /// from the request going out to the backend's response head, when there was one.
    func exchangeFinished(route: String?, status: UInt, upstreamNanoseconds: Int64?) {
        series(route).count(status: status)
        if let upstreamNanoseconds { upstreamDuration.recordNanoseconds(upstreamNanoseconds) }
    }

    private func series(_ route: String?) -> RouteSeries {
        guard let route else { return unmatched }
        if let series = known[route] { return series }
        // A route added by a reload: made once, then found here.
        let factory = self.factory
        return late.withLockedValue { late in
            if let series = late[route] { return series }
            let series = RouteSeries(route: route, factory: factory)
            late[route] = series
            return series
        }
    }

    func tokenMinted() { tokensMinted.increment() }
    func jarWritten() { jarWrites.increment() }

    /// A store operation failed (a load, a write, a sweep, a probe).
    public func storeFailed() { storeErrors.increment() }

    /// Sets the session gauges from the store's counts (at scrape time).
    public func update(from stats: StoreStats) {
        activeSessions.record(stats.sessions)
        loggedInSessions.record(stats.loggedIn)
        storedCookies.record(stats.cookies)
    }
}
