import Testing
import TokenJarGateway
import TokenJarTestSupport

@Suite struct ProbeTests {
    @Test func healthzAnswersOK() async throws {
        let harness = try await AdminHarness.start()
        let response = try await harness.adminRequest(.GET, "/healthz", bearer: nil)
        try await harness.stop()
        #expect(response.status == .ok)
        #expect(try response.json["status"] as? String == "ok")
    }

    @Test func readyzFollowsTheStoreAndListsEachUpstream() async throws {
        let deadHold = try RefusingPort()
        let deadPort = deadHold.port
        let store = SwitchableStore()
        let harness = try await AdminHarness.start(store: store, routes: { live in
            [
                RouteSpec(name: "dead", pathPrefix: "/dead", upstreams: [Upstream(host: "127.0.0.1", port: deadPort)]),
                RouteSpec(name: "default", upstreams: [live]),
            ]
        })
        let livePort = harness.backend.port
        let ready = try await harness.adminRequest(.GET, "/readyz", bearer: nil)
        store.isDown = true
        let unready = try await harness.adminRequest(.GET, "/readyz", bearer: nil)
        store.isDown = false
        let readyAgain = try await harness.adminRequest(.GET, "/readyz", bearer: nil)
        try await harness.stop()

        #expect(ready.status == .ok)
        let body = try ready.json
        #expect(body["status"] as? String == "ready")
        #expect(body["store"] as? String == "ok")
        let upstreams = try #require(body["upstreams"] as? [[String: Any]])
        #expect(upstreams.count == 2)
        let dead = try #require(upstreams.first { $0["upstream"] as? String == "http://127.0.0.1:\(deadPort)" })
        #expect(dead["reachable"] as? Bool == false)
        #expect(dead["routes"] as? [String] == ["dead"])
        let live = try #require(upstreams.first { $0["upstream"] as? String == "http://127.0.0.1:\(livePort)" })
        #expect(live["reachable"] as? Bool == true)

        #expect(unready.status == .serviceUnavailable)
        #expect(try unready.json["store"] as? String == "unavailable")
        #expect(try (unready.json["upstreams"] as? [Any])?.count == 2)
        #expect(readyAgain.status == .ok)
        withExtendedLifetime(deadHold) {}
    }

    @Test func probesNeedNoTokenAndTheSessionsAPIIsNotOnThePublicPort() async throws {
        let harness = try await AdminHarness.start()
        let publicHealth = try await harness.proxy("/healthz")
        let publicSessions = try await harness.proxy("/sessions")
        try await harness.stop()
        // The public listener forwards these paths to the backend like any other.
        #expect(harness.backend.requests.map(\.uri) == ["/healthz", "/sessions"])
        #expect(publicHealth.body == "ok" && publicSessions.body == "ok")
    }
}
