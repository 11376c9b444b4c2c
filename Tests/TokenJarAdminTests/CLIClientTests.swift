import Foundation
import Testing
import TokenJarAdmin
import TokenJarGateway
import TokenJarTestSupport

/// The client code of `tokenjar sessions …` against a running gateway's admin listener.
@Suite struct CLIClientTests {
    @Test func theCommandsClientCountsFindsShowsAndRevokes() async throws {
        let harness = try await AdminHarness.start(respond: JarBackend.respond)
        let token = try await harness.session(withCookie: "cli-cookie")
        try await harness.setOpenID("o-dave", for: token)
        let hash = SessionToken.hash(token).hex
        let client = AdminClient(baseURL: harness.adminURL + "/", token: AdminHarness.adminToken)

        let counts = try await client.counts()
        let byPrefix = try await client.find(prefix: String(hash.prefix(6)))
        let byOpenID = try await client.find(openID: "o-dave")
        let shown = try await client.show(prefix: String(hash.prefix(8)))
        let revealed = try await client.show(prefix: String(hash.prefix(8)), reveal: true)
        let refused = try await AdminClient(baseURL: harness.adminURL, token: "wrong-token-wrong-token").counts()
        let revoked = try await client.revoke(openID: "o-dave")
        let jarAfter = try await harness.cookieSent(with: token)
        let countsAfter = try await client.counts()
        try await harness.stop()

        #expect(counts.isSuccess)
        #expect(try JSONBody.object(counts.body)["sessions"] as? Int == 1)
        #expect(byPrefix.isSuccess && byPrefix.body.contains(hash))
        #expect(byOpenID.isSuccess && byOpenID.body.contains(hash))
        #expect(shown.isSuccess && !shown.body.contains("cli-cookie") && shown.body.contains("(redacted)"))
        #expect(revealed.isSuccess && revealed.body.contains("cli-cookie"))
        #expect(refused.status == 401 && !refused.isSuccess)
        #expect(revoked.isSuccess)
        #expect(try JSONBody.object(revoked.body)["revoked"] as? Int == 1)
        #expect(jarAfter == "")
        // The revoked session is gone; the request after it started a fresh one.
        #expect(try JSONBody.object(countsAfter.body)["sessions"] as? Int == 1)
    }

    @Test func anOpenIDIsPercentEncodedInTheQuery() async throws {
        let harness = try await AdminHarness.start(respond: JarBackend.respond)
        let token = try await harness.session(withCookie: "enc")
        try await harness.setOpenID("o+odd/id=1&x", for: token)
        let found = try await AdminClient(baseURL: harness.adminURL, token: AdminHarness.adminToken).find(openID: "o+odd/id=1&x")
        try await harness.stop()
        #expect(found.isSuccess && found.body.contains(SessionToken.hash(token).hex))
    }
}
