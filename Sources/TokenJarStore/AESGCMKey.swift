#if canImport(CCryptoBoringSSL)
import CCryptoBoringSSL
#else
import Crypto
import Foundation
#endif

/// One AES-256-GCM key, set up once and used for every value it seals or opens.
///
/// Every jar write of an encrypted store seals the cookies it changes, on the event loop, so the
/// cost of one seal is part of every proxied request. swift-crypto's `AES.GCM.seal` expands the
/// key, builds a BoringSSL AEAD context, and wraps nonce, ciphertext and tag in three `Data`
/// values and a sealed box for each call: about 14,000 instructions for a 30-byte cookie value.
/// The same BoringSSL that swift-crypto builds keeps an initialised context for concurrent use
/// (`EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` may run on one context from many threads), so
/// this type initialises one per key and seals straight into the stored value's buffer.
///
/// BoringSSL is swift-crypto's own copy, reached as its `CCryptoBoringSSL` module. Where that
/// module is not in reach, the same operations go through swift-crypto's `AES.GCM`; the bytes
/// are the same either way (`SealingTests` checks the two against each other).
final class AESGCMKey: @unchecked Sendable {  // immutable after init; BoringSSL allows concurrent use
    static let nonceSize = 12
    static let tagSize = 16

    #if canImport(CCryptoBoringSSL)
    private let context: UnsafeMutablePointer<EVP_AEAD_CTX>
    #else
    private let key: SymmetricKey
    #endif

    /// `bytes` is a 32-byte key (the caller checks the size).
    init(_ bytes: [UInt8]) {
        precondition(bytes.count == 32, "AES-256 keys are 32 bytes")
        #if canImport(CCryptoBoringSSL)
        let made = bytes.withUnsafeBufferPointer { key in
            CCryptoBoringSSL_EVP_AEAD_CTX_new(
                CCryptoBoringSSL_EVP_aead_aes_256_gcm(), key.baseAddress, key.count, Self.tagSize)
        }
        // Fails only when memory runs out: a 32-byte key and a 16-byte tag are always valid.
        guard let made else { fatalError("BoringSSL could not set up an AES-256-GCM context") }
        context = made
        #else
        key = SymmetricKey(data: bytes)
        #endif
    }

    #if canImport(CCryptoBoringSSL)
    deinit { CCryptoBoringSSL_EVP_AEAD_CTX_free(context) }
    #endif

    /// `header`, then `nonce`, ciphertext and tag, in one new array. `nonce` is 12 bytes; the
    /// header is not encrypted (authenticate it through `aad` when it matters).
    func seal(
        _ plaintext: [UInt8], header: (UInt8, UInt8), nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer
    ) -> [UInt8] {
        precondition(nonce.count == Self.nonceSize)
        let sealedCount = plaintext.count + Self.tagSize
        return [UInt8](unsafeUninitializedCapacity: 2 + Self.nonceSize + sealedCount) { out, count in
            out[0] = header.0
            out[1] = header.1
            UnsafeMutableRawPointer(out.baseAddress! + 2).copyMemory(from: nonce.baseAddress!, byteCount: Self.nonceSize)
            let body = UnsafeMutableBufferPointer(rebasing: out[(2 + Self.nonceSize)...])
            #if canImport(CCryptoBoringSSL)
            var written = 0
            let sealed = plaintext.withUnsafeBufferPointer { input in
                // An empty value may have no base address; BoringSSL wants one all the same.
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { spare in
                    CCryptoBoringSSL_EVP_AEAD_CTX_seal(
                        context, body.baseAddress, &written, body.count,
                        Self.bytes(nonce), nonce.count,
                        input.baseAddress ?? UnsafePointer(spare.baseAddress), input.count,
                        Self.bytes(aad), aad.count)
                }
            }
            // Sealing fails only for sizes beyond GCM's limits (64 GiB), far above any cookie.
            precondition(sealed == 1 && written == sealedCount, "AES-GCM seal failed")
            #else
            let box = try! AES.GCM.seal(
                plaintext, using: key, nonce: try! AES.GCM.Nonce(data: nonce), authenticating: aad)
            let ciphertextCount = box.ciphertext.copyBytes(to: body)
            _ = box.tag.copyBytes(to: UnsafeMutableBufferPointer(rebasing: body[ciphertextCount...]))
            #endif
            count = 2 + Self.nonceSize + sealedCount
        }
    }

    #if canImport(CCryptoBoringSSL)
    private static func bytes(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>? {
        buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
    }
    #endif

    /// The plaintext of `nonce ‖ ciphertext ‖ tag`, or nil when it does not authenticate.
    func open(_ combined: ArraySlice<UInt8>, aad: UnsafeRawBufferPointer) -> [UInt8]? {
        guard combined.count >= Self.nonceSize + Self.tagSize else { return nil }
        let plaintextCount = combined.count - Self.nonceSize - Self.tagSize
        #if canImport(CCryptoBoringSSL)
        var opened = true
        let plaintext = combined.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: plaintextCount) { out, count in
                var written = 0
                // `out` may be empty with a nil base; BoringSSL wants an address all the same.
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { spare in
                    let ok = CCryptoBoringSSL_EVP_AEAD_CTX_open(
                        context, out.baseAddress ?? spare.baseAddress, &written, plaintextCount,
                        input.baseAddress, Self.nonceSize,
                        input.baseAddress! + Self.nonceSize, input.count - Self.nonceSize,
                        Self.bytes(aad), aad.count)
                    opened = ok == 1 && written == plaintextCount
                }
                count = opened ? plaintextCount : 0
            }
        }
        if !opened { CCryptoBoringSSL_ERR_clear_error() }
        return opened ? plaintext : nil
        #else
        guard let box = try? AES.GCM.SealedBox(combined: combined),
              let plaintext = try? AES.GCM.open(box, using: key, authenticating: aad) else { return nil }
        return Array(plaintext)
        #endif
    }
}
