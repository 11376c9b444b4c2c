import Foundation
import Testing

@testable import TokenJarStore

/// The nonces of sealed values (a per-process random prefix and a counter) and the format they
/// keep: values sealed with fully random nonces still open.
@Suite("Sealing nonces")
struct SealingNonceTests {
    static let key = [UInt8](repeating: 1, count: 32)

    @Test("nonces count up under one prefix and never repeat")
    func countUp() {
        let nonces = SealingNonces()
        let first = nonces.next()
        var seen: Set<[UInt8]> = []
        for i in 1...10_000 {
            let bytes = nonces.nextBytes()
            #expect(bytes.count == 12)
            #expect(Array(bytes[8...]) == withUnsafeBytes(of: (first.counter + UInt32(i)).bigEndian, Array.init))
            #expect(Array(bytes[..<8]) == withUnsafeBytes(of: first.prefix.bigEndian, Array.init))
            seen.insert(bytes)
        }
        #expect(seen.count == 10_000)
    }

    @Test("before the counter wraps a new prefix is drawn")
    func wrap() {
        let nonces = SealingNonces(counter: .max - 2)
        let a = nonces.next()
        let b = nonces.next()
        #expect(a.prefix == b.prefix && a.counter == .max - 2 && b.counter == .max - 1)
        let c = nonces.next()
        #expect(c.prefix != a.prefix && c.counter == 0)
        #expect(nonces.next() == (c.prefix, 1))
    }

    @Test("two processes (two sources) start from different prefixes")
    func prefixesDiffer() {
        // Random 64-bit prefixes: equal with probability 2^-64.
        #expect(SealingNonces().next().prefix != SealingNonces().next().prefix)
    }

    @Test("sealed values carry the process's nonces; every value's nonce differs")
    func sealedNonces() throws {
        let keyring = try SealingKeyring(keys: [(id: 4, bytes: Self.key)])
        let context = SealingContext.cookie(name: "sid", domain: "example.com", path: "/")
        let values = (0..<100).map { _ in keyring.seal(Array("secret".utf8), context: context) }
        #expect(Set(values.map { Array($0[2..<14]) }).count == 100)
        #expect(Set(values.map { Array($0[2..<10]) }).count == 1, "one prefix per process")
        for value in values { #expect(try keyring.open(value, context: context) == Array("secret".utf8)) }
    }

    @Test("a value sealed with a random nonce (the earlier scheme, by another AES-GCM implementation) still opens")
    func randomNonceStillOpens() throws {
        let keyring = try SealingKeyring(keys: [(id: 4, bytes: Self.key)])
        let context = SealingContext.cookie(name: "PHPSESSID", domain: "shop.example", path: "/app")
        // "abc123" sealed under key id 4 (32 bytes of 0x01) with the nonce 9c1f4e27a85b03d6e0774a1b,
        // by Python's `cryptography` (AESGCM), following the documented format.
        let sealed: [UInt8] = [
            0xe5, 0x04, 0x9c, 0x1f, 0x4e, 0x27, 0xa8, 0x5b, 0x03, 0xd6, 0xe0, 0x77, 0x4a, 0x1b, 0x69, 0xe8,
            0x25, 0x30, 0x11, 0x54, 0x49, 0x90, 0x5b, 0xa2, 0x09, 0xdb, 0x23, 0xbb, 0xe5, 0x91, 0x80, 0xe2,
            0xa2, 0x06, 0x66, 0xcc,
        ]
        #expect(try keyring.open(sealed, context: context) == Array("abc123".utf8))
        #expect(throws: SealingFailure.notAuthentic) {
            try keyring.open(sealed, context: SealingContext.cookie(name: "PHPSESSID", domain: "shop.example", path: "/"))
        }
    }

    @Test("the cookie context encodes each part with its length, so parts cannot shift")
    func cookieContext() {
        let context = SealingContext.cookie(name: "a", domain: "bc", path: "/")
        #expect(context == Array("tokenjar cookie".utf8) + [0, 0, 0, 1] + Array("a".utf8)
            + [0, 0, 0, 2] + Array("bc".utf8) + [0, 0, 0, 1] + Array("/".utf8))
        #expect(SealingContext.cookie(name: "ab", domain: "c", path: "/") != context)
    }
}
