import Foundation
import NIOPosix
import Testing
import TokenJarStore
import TokenJarGateway
import TokenJarTestSupport

@Suite struct SessionsAPITests {
    @Test func theSessionsAPINeedsTheAdminToken() async throws {
        let harness = try await AdminHarness.start()
        let none = try await harness.adminRequest(.GET, "/sessions", bearer: nil)
        let wrong = try await harness.adminRequest(.GET, "/sessions", bearer: "not-the-admin-token-at-all")
        let prefixOfRight = try await harness.adminRequest(.GET, "/sessions", bearer: String(AdminHarness.adminToken.dropLast()))
        let deleteWithout = try await harness.adminRequest(.DELETE, "/sessions?openid=o1", bearer: nil)
        let right = try await harness.adminRequest(.GET, "/sessions")
        try await harness.stop()

        for refused in [none, wrong, prefixOfRight, deleteWithout] {
            #expect(refused.status == .unauthorized)
            let error = try #require(try refused.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "unauthorized")
        }
        #expect(right.status == .ok)
        #expect(try right.json["sessions"] as? Int == 0)
    }

    @Test func withoutAConfiguredTokenTheSessionsAPIIsClosed() async throws {
        let harness = try await AdminHarness.start(token: nil)
        let anyBearer = try await harness.adminRequest(.GET, "/sessions", bearer: "")
        let guessed = try await harness.adminRequest(.GET, "/sessions", bearer: AdminHarness.adminToken)
        let health = try await harness.adminRequest(.GET, "/healthz", bearer: nil)
        try await harness.stop()
        for refused in [anyBearer, guessed] {
            #expect(refused.status == .unauthorized)
            #expect((try refused.json["error"] as? [String: Any])?["code"] as? String == "admin_token_unset")
        }
        #expect(health.status == .ok)
    }

    @Test func countsAndLookupsByPrefixAndOpenID() async throws {
        let harness = try await AdminHarness.start(respond: JarBackend.respond)
        let first = try await harness.session(withCookie: "alpha")
        let second = try await harness.session(withCookie: "beta")
        try await harness.setOpenID("o-alice", for: first)
        let firstHash = SessionToken.hash(first).hex
        let secondHash = SessionToken.hash(second).hex

        let counts = try await harness.adminRequest(.GET, "/sessions")
        let byPrefix = try await harness.adminRequest(.GET, "/sessions?prefix=\(firstHash.prefix(8))")
        let byOpenID = try await harness.adminRequest(.GET, "/sessions?openid=o-alice")
        let unknownOpenID = try await harness.adminRequest(.GET, "/sessions?openid=o-nobody")
        let shortPrefix = try await harness.adminRequest(.GET, "/sessions?prefix=\(firstHash.prefix(5))")
        let notHex = try await harness.adminRequest(.GET, "/sessions?prefix=zzzzzzzz")
        let both = try await harness.adminRequest(.GET, "/sessions?prefix=\(firstHash.prefix(8))&openid=o-alice")
        try await harness.stop()

        let countsBody = try counts.json
        #expect(countsBody["sessions"] as? Int == 2)
        #expect(countsBody["logged_in"] as? Int == 1)
        #expect(countsBody["cookies"] as? Int == 2)

        let found = try #require(try byPrefix.json["sessions"] as? [[String: Any]])
        #expect(found.map { $0["hash"] as? String } == [firstHash])
        #expect(found.first?["cookie_count"] as? Int == 1)
        #expect(found.first?["cookies"] == nil)

        let ofAlice = try #require(try byOpenID.json["sessions"] as? [[String: Any]])
        #expect(ofAlice.map { $0["hash"] as? String } == [firstHash])
        #expect(ofAlice.first?["openid"] as? String == "o-alice")
        #expect(!byOpenID.body.contains(secondHash))
        #expect((try unknownOpenID.json["sessions"] as? [Any])?.isEmpty == true)

        for bad in [shortPrefix, notHex, both] {
            #expect(bad.status == .badRequest)
        }
        // Tokens never appear, only their hashes.
        for body in [byPrefix.body, byOpenID.body] {
            #expect(!body.contains(first) && !body.contains(second))
        }
    }

    @Test func aJarIsShownRedactedUnlessRevealIsAsked() async throws {
        let harness = try await AdminHarness.start(respond: JarBackend.respond)
        let token = try await harness.session(withCookie: "secret-session-id-42")
        let prefix = String(SessionToken.hash(token).hex.prefix(10))
        let redacted = try await harness.adminRequest(.GET, "/sessions/\(prefix)")
        let revealed = try await harness.adminRequest(.GET, "/sessions/\(prefix)?reveal=true")
        let missing = try await harness.adminRequest(.GET, "/sessions/000000")
        try await harness.stop()

        #expect(redacted.status == .ok)
        #expect(!redacted.body.contains("secret-session-id-42"))
        let cookie = try #require((try redacted.json["cookies"] as? [[String: Any]])?.first)
        #expect(cookie["name"] as? String == "PHPSESSID")
        #expect(cookie["value"] as? String == "(redacted)")
        #expect(cookie["domain"] as? String == "127.0.0.1")
        #expect(cookie["path"] as? String == "/")
        #expect(cookie["http_only"] as? Bool == true)
        #expect(cookie["host_only"] as? Bool == true)

        let shown = try #require((try revealed.json["cookies"] as? [[String: Any]])?.first)
        #expect(shown["value"] as? String == "secret-session-id-42")
        #expect(missing.status == .notFound)
    }

    @Test func aRevokedTokenNoLongerCarriesItsJar() async throws {
        let harness = try await AdminHarness.start(respond: JarBackend.respond)
        let revoked = try await harness.session(withCookie: "kept-by-revoked")
        let other = try await harness.session(withCookie: "kept-by-other")
        // Both jars work, through the gateway's cache.
        #expect(try await harness.cookieSent(with: revoked) == "PHPSESSID=kept-by-revoked")
        #expect(try await harness.cookieSent(with: other) == "PHPSESSID=kept-by-other")

        let answer = try await harness.adminRequest(.DELETE, "/sessions/\(SessionToken.hash(revoked).hex.prefix(12))")
        let afterwards = try await harness.proxy("/echo", token: revoked)
        let otherAfterwards = try await harness.cookieSent(with: other)
        let counts = try await harness.adminRequest(.GET, "/sessions")
        try await harness.stop()

        #expect(answer.status == .ok)
        #expect(try answer.json["revoked"] as? Int == 1)
        #expect(try answer.json["hashes"] as? [String] == [SessionToken.hash(revoked).hex])
        // The old token reaches the backend without its cookie, under a fresh session.
        #expect(afterwards.status == .ok)
        #expect(afterwards.body == "")
        let fresh = try #require(afterwards.headers.first(name: "X-Session-Token"))
        #expect(fresh != revoked)
        #expect(otherAfterwards == "PHPSESSID=kept-by-other")
        // The other session and the fresh one.
        #expect(try counts.json["sessions"] as? Int == 2)
    }

    @Test func revokingByOpenIDEndsEverySessionOfThatUser() async throws {
        let harness = try await AdminHarness.start(respond: JarBackend.respond)
        let phone = try await harness.session(withCookie: "phone")
        let tablet = try await harness.session(withCookie: "tablet")
        let stranger = try await harness.session(withCookie: "stranger")
        try await harness.setOpenID("o-bob", for: phone)
        try await harness.setOpenID("o-bob", for: tablet)
        try await harness.setOpenID("o-carol", for: stranger)
        #expect(try await harness.cookieSent(with: phone) == "PHPSESSID=phone")
        #expect(try await harness.cookieSent(with: tablet) == "PHPSESSID=tablet")

        let answer = try await harness.adminRequest(.DELETE, "/sessions?openid=o-bob")
        let phoneAfter = try await harness.cookieSent(with: phone)
        let tabletAfter = try await harness.cookieSent(with: tablet)
        let strangerAfter = try await harness.cookieSent(with: stranger)
        let left = try await harness.adminRequest(.GET, "/sessions?openid=o-bob")
        try await harness.stop()

        #expect(answer.status == .ok)
        #expect(try answer.json["revoked"] as? Int == 2)
        #expect(Set(try answer.json["hashes"] as? [String] ?? []) == [SessionToken.hash(phone).hex, SessionToken.hash(tablet).hex])
        #expect(phoneAfter == "" && tabletAfter == "")
        #expect(strangerAfter == "PHPSESSID=stranger")
        #expect((try left.json["sessions"] as? [Any])?.isEmpty == true)
    }

    @Test func anAmbiguousPrefixIsRefused() async throws {
        let harness = try await AdminHarness.start()
        // Two stored sessions whose hashes share their first eight hex digits.
        let now = Int64(Date().timeIntervalSince1970)
        var hashes: [TokenHash] = []
        for last: UInt8 in [0x01, 0x02] {
            let hash = try #require(TokenHash(bytes: [0xab, 0xcd, 0xef, 0x01] + Array(repeating: 0, count: 27) + [last]))
            hashes.append(hash)
            let record = SessionRecord(tokenHash: hash, createdAt: now, lastSeenAt: now, expiresAt: now + 3600)
            try await harness.store.write(SessionWrite(tokenHash: hash, create: record), on: MultiThreadedEventLoopGroup.singleton.any()).get()
        }
        let ambiguous = try await harness.adminRequest(.DELETE, "/sessions/abcdef01")
        let ambiguousShow = try await harness.adminRequest(.GET, "/sessions/abcdef01")
        let listed = try await harness.adminRequest(.GET, "/sessions?prefix=abcdef01")
        let tooShort = try await harness.adminRequest(.DELETE, "/sessions/abcde")
        let none = try await harness.adminRequest(.DELETE, "/sessions/ffffffffffff")
        let exact = try await harness.adminRequest(.DELETE, "/sessions/\(hashes[1].hex)")
        let counts = try await harness.adminRequest(.GET, "/sessions")
        try await harness.stop()

        #expect(ambiguous.status == .conflict && ambiguousShow.status == .conflict)
        #expect((try ambiguous.json["error"] as? [String: Any])?["code"] as? String == "ambiguous_prefix")
        #expect((try listed.json["sessions"] as? [Any])?.count == 2)
        #expect(tooShort.status == .badRequest)
        #expect(none.status == .notFound)
        #expect(exact.status == .ok)
        #expect(try counts.json["sessions"] as? Int == 1)
    }
}
