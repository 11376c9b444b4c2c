import Testing
import TokenJarGateway
import TokenJarTestSupport

@Suite struct MetricsTests {
    @Test func metricsTextCountsKnownTraffic() async throws {
        let harness = try await AdminHarness.start(routes: { [RouteSpec(name: "app", pathPrefix: "/app", upstreams: [$0])] })
        var tokens: [String] = []
        for i in 0..<3 {
            let response = try await harness.proxy("/app/\(i)")
            #expect(response.status == .ok)
            tokens.append(try #require(response.headers.first(name: "X-Session-Token")))
        }
        // A known session on a cached jar with nothing to write; and a path no route takes.
        #expect(try await harness.proxy("/app/again", token: tokens[0]).status == .ok)
        #expect(try await harness.proxy("/elsewhere").status == .notFound)

        let scrape = try await harness.adminRequest(.GET, "/metrics", bearer: nil)
        try await harness.stop()

        #expect(scrape.status == .ok)
        #expect(scrape.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = PrometheusText(scrape.body)
        #expect(text.value("tokenjar_requests_total", ["route": "app", "status": "2xx"]) == 4)
        #expect(text.value("tokenjar_requests_total", ["route": "-", "status": "4xx"]) == 1)
        #expect(text.value("tokenjar_requests_total", ["route": "app", "status": "5xx"]) == 0)
        #expect(text.value("tokenjar_tokens_minted_total") == 3)
        #expect(text.value("tokenjar_jar_writes_total") == 3)
        #expect(text.value("tokenjar_store_errors_total") == 0)
        #expect(text.types["tokenjar_upstream_duration_seconds"] == "histogram")
        #expect(text.value("tokenjar_upstream_duration_seconds_count") == 4)
        let sum = try #require(text.value("tokenjar_upstream_duration_seconds_sum"))
        #expect(sum > 0 && sum < 4)
        #expect(text.value("tokenjar_upstream_duration_seconds_bucket", ["le": "+Inf"]) == 4)
        #expect(text.value("tokenjar_active_sessions") == 3)
        #expect(text.value("tokenjar_logged_in_sessions") == 0)
    }

    @Test func storeErrorsAreCounted() async throws {
        let store = SwitchableStore()
        let harness = try await AdminHarness.start(store: store)
        store.isDown = true
        let unready = try await harness.adminRequest(.GET, "/readyz", bearer: nil)
        let scrape = try await harness.adminRequest(.GET, "/metrics", bearer: nil)
        try await harness.stop()
        #expect(unready.status == .serviceUnavailable)
        // One failed ping, then the failed count of the scrape itself.
        #expect(PrometheusText(scrape.body).value("tokenjar_store_errors_total") == 2)
    }
}
