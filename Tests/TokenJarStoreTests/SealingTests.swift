import Foundation
import Testing

@testable import TokenJarStore

/// Encryption at rest: the key list, the sealed format, rotation, and the wrapper store.
@Suite("Sealing")
struct SealingTests {
    static let key1 = Data(repeating: 1, count: 32).base64EncodedString()
    static let key2 = Data(repeating: 2, count: 32).base64EncodedString()

    @Test("key lists: first key seals, every key opens; malformed lists name the entry, never the key")
    func parsing() throws {
        let keyring = try SealingKeyring(parsing: " 7:\(Self.key2) , 3:\(Self.key1)")
        #expect(keyring.currentID == 7 && keyring.ids == [7, 3])
        let urlSafe = Data(repeating: 0xfb, count: 32).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(try SealingKeyring(parsing: "0:\(urlSafe)").currentID == 0)

        let short = Data(repeating: 9, count: 16).base64EncodedString()
        for bad in ["", "1", "x:\(Self.key1)", "256:\(Self.key1)", "1:\(short)", "1:not base64!",
                    "1:\(Self.key1),1:\(Self.key2)", "1:\(Self.key1),"] {
            do {
                _ = try SealingKeyring(parsing: bad)
                Issue.record("accepted \(bad.count) characters of a bad key list")
            } catch let error as StoreError {
                #expect(error == .invalidArgument)
                #expect(!"\(error)".contains(Self.key1) && !"\(error)".contains(short) && !"\(error)".contains("base64!"))
            }
        }
    }

    @Test("sealed values open only with their key and in their own context")
    func sealAndOpen() throws {
        let keyring = try SealingKeyring(parsing: "1:\(Self.key1)")
        let context = SealingContext.cookie(name: "SID", domain: "example.com", path: "/")
        let sealed = keyring.seal(Array("secret".utf8), context: context)
        #expect(SealingKeyring.isSealed(sealed) && sealed[1] == 1)
        #expect(sealed.count == 6 + SealingKeyring.overhead)
        #expect(try keyring.open(sealed, context: context) == Array("secret".utf8))
        #expect(keyring.seal(Array("secret".utf8), context: context) != sealed, "nonces are random")

        let elsewhere = SealingContext.cookie(name: "SID", domain: "example.com", path: "/x")
        #expect(throws: SealingFailure.notAuthentic) { try keyring.open(sealed, context: elsewhere) }
        var tampered = sealed
        tampered[20] ^= 1
        #expect(throws: SealingFailure.notAuthentic) { try keyring.open(tampered, context: context) }
        var relabelled = sealed
        relabelled[1] = 2
        #expect(throws: SealingFailure.unknownKey(2)) { try keyring.open(relabelled, context: context) }
        #expect(throws: SealingFailure.notSealed) { try keyring.open(Array("plain".utf8), context: context) }
    }

    @Test("rotation: a new first key seals, the old one still opens, dropping it makes old values unreadable")
    func rotation() throws {
        let old = try SealingKeyring(parsing: "1:\(Self.key1)")
        let rotated = try SealingKeyring(parsing: "2:\(Self.key2),1:\(Self.key1)")
        let retired = try SealingKeyring(parsing: "2:\(Self.key2)")
        let context = SealingContext.sessionKey(openID: "o")
        let before = old.seal([1, 2, 3], context: context)
        let after = rotated.seal([4, 5], context: context)
        #expect(after[1] == 2)
        #expect(try rotated.open(before, context: context) == [1, 2, 3])
        #expect(try retired.open(after, context: context) == [4, 5])
        #expect(throws: SealingFailure.unknownKey(1)) { try retired.open(before, context: context) }
    }

    @Test("the wrapped store holds ciphertext only; what does not open is left out")
    func wrapper() async throws {
        let base = MemorySessionStore()
        let store = SealingSessionStore(wrapping: base, keyring: try SealingKeyring(parsing: "1:\(Self.key1)"))
        let h = hash(1)
        let identity = SessionIdentity(openID: "o-1", unionID: "u-1", sealedSessionKey: Array("session-key".utf8))
        try await store.create(session(h, identity: identity, cookies: [cookie("a", "alpha")]))
        try await store.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("b", "beta"))]))

        let raw = try #require(try await base.load(h, now: 1_000))
        for stored in raw.cookies {
            #expect(SealingKeyring.isSealed(stored.payload))
            #expect(!String(decoding: stored.payload, as: UTF8.self).contains("alpha"))
            #expect(!String(decoding: stored.payload, as: UTF8.self).contains("beta"))
        }
        #expect(raw.identity?.openID == "o-1" && raw.identity?.sealedSessionKey != identity.sealedSessionKey)
        #expect(try await store.load(h, now: 1_000)?.cookies == [cookie("a", "alpha"), cookie("b", "beta")])
        #expect(try await store.load(h, now: 1_000)?.identity == identity)

        // A plaintext cookie (written before a key was set) and a sealed value that was moved to
        // another cookie are both left out; the rest of the jar stays.
        var moved = try #require(raw.cookies.first { $0.name == "a" })
        moved.name = "c"
        try await base.apply(SessionWrite(tokenHash: h, changes: [.upsert(cookie("p", "plain")), .upsert(moved)]))
        #expect(try await store.load(h, now: 1_000)?.cookies.map(\.name) == ["a", "b"])

        // Rotation copies sealed cookies as they are: they still open under the new token.
        try await store.rotate(from: h, to: session(hash(2), identity: identity), on: store.loop).get()
        #expect(try await store.load(hash(2), now: 1_000)?.cookies.map(\.name) == ["a", "b"])
        #expect(try await store.sessions(openID: "o-1").first?.identity == identity)

        try await store.setIdentity(hash(2), SessionIdentity(openID: "o-2", sealedSessionKey: [7]), on: store.loop).get()
        #expect(try await base.load(hash(2), now: 1_000)?.identity?.sealedSessionKey != [7])
        #expect(try await store.load(hash(2), now: 1_000)?.identity?.sealedSessionKey == [7])

        try await store.setSharedValue("wechat.access_token", Array("token".utf8), expiresAt: 9)
        #expect(try await base.sharedValue("wechat.access_token")?.value != Array("token".utf8))
        #expect(try await store.sharedValue("wechat.access_token")?.value == Array("token".utf8))
        #expect(try await store.sharedValue("wechat.access_token")?.expiresAt == 9)
        try await store.shutdown()
    }
}
