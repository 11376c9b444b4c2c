import Crypto
import Foundation
import Testing

@testable import TokenJarStore

/// `AESGCMKey` against swift-crypto's `AES.GCM`: the same key, nonce and data give the same
/// bytes, each opens what the other sealed, and anything altered does not open.
@Suite("AES-GCM key")
struct AESGCMKeyTests {
    static let keyBytes = (0..<32).map { UInt8($0 &* 7 &+ 3) }
    static let nonce: [UInt8] = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0x80]
    static let aad: [UInt8] = [0xE5, 4] + Array("SID\0example.com\0/".utf8)

    static func reference(_ plaintext: [UInt8]) throws -> [UInt8] {
        let box = try AES.GCM.seal(
            plaintext, using: SymmetricKey(data: keyBytes), nonce: AES.GCM.Nonce(data: nonce), authenticating: aad)
        return [0xE5, 4] + Array(box.combined!)
    }

    func seal(_ key: AESGCMKey, _ plaintext: [UInt8]) -> [UInt8] {
        Self.nonce.withUnsafeBytes { nonce in
            Self.aad.withUnsafeBytes { aad in key.seal(plaintext, header: (0xE5, 4), nonce: nonce, aad: aad) }
        }
    }

    func open(_ key: AESGCMKey, _ sealed: [UInt8], aad: [UInt8] = Self.aad) -> [UInt8]? {
        aad.withUnsafeBytes { key.open(sealed[2...], aad: $0) }
    }

    @Test("the bytes of swift-crypto's AES.GCM.seal, for values from empty to several blocks",
          arguments: [0, 1, 15, 16, 17, 31, 64, 100, 4096])
    func sameBytes(length: Int) throws {
        let key = AESGCMKey(Self.keyBytes)
        let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        let sealed = seal(key, plaintext)
        #expect(sealed == (try Self.reference(plaintext)))
        #expect(sealed.count == 2 + 12 + length + 16)
        #expect(open(key, sealed) == plaintext)
        #expect(open(key, try Self.reference(plaintext)) == plaintext)
        let box = try AES.GCM.SealedBox(combined: sealed[2...])
        #expect(Array(try AES.GCM.open(box, using: SymmetricKey(data: Self.keyBytes), authenticating: Self.aad)) == plaintext)
    }

    @Test("a flipped bit anywhere, other data, another key, or a short value does not open")
    func rejects() {
        let key = AESGCMKey(Self.keyBytes)
        let sealed = seal(key, Array("session value".utf8))
        for index in 2..<sealed.count {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(open(key, altered) == nil, "bit flipped at \(index)")
        }
        #expect(open(key, sealed, aad: [0xE5, 4] + Array("SID\0example.com\0/x".utf8)) == nil)
        #expect(open(AESGCMKey(Array(repeating: 1, count: 32)), sealed) == nil)
        #expect(open(key, Array(sealed.prefix(2 + 12 + 15))) == nil)
        #expect(open(key, sealed) == Array("session value".utf8), "a failure leaves the key usable")
    }

    @Test("one key seals and opens from many threads at once")
    func concurrentUse() async {
        let key = AESGCMKey(Self.keyBytes)
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var nonce = Self.nonce
                    for round in 0..<500 {
                        nonce[0] = UInt8(task)
                        nonce[1] = UInt8(truncatingIfNeeded: round)
                        nonce[2] = UInt8(truncatingIfNeeded: round >> 8)
                        let plaintext = Array("value \(task) \(round)".utf8)
                        let sealed = nonce.withUnsafeBytes { n in
                            Self.aad.withUnsafeBytes { key.seal(plaintext, header: (0xE5, 4), nonce: n, aad: $0) }
                        }
                        let opened = Self.aad.withUnsafeBytes { key.open(sealed[2...], aad: $0) }
                        if opened != plaintext { return false }
                    }
                    return true
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}
