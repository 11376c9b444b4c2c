import Crypto  // random keys (SymmetricKey)
import Foundation

/// The keys that encrypt stored secrets (cookie values, WeChat session keys) with AES-256-GCM.
///
/// Each key has an id (0–255) that every ciphertext carries, so keys can rotate: the first key
/// of the list seals, every key of the list opens. To rotate, put a new key first and keep the
/// old one after it until the data sealed under it is gone (sessions expire, or rewrite).
///
/// A sealed value is `0xE5, key id, 12-byte nonce, ciphertext, 16-byte tag`. The first two bytes
/// and what the value belongs to (a cookie's name, domain and path; a session key's openid) are
/// authenticated too, so a value moved to another cookie or user does not open. Nonces come
/// from `SealingNonces` (a random per-process prefix and a counter); opening does not care how
/// a nonce was made, so values sealed with fully random nonces still open.
public struct SealingKeyring: Sendable {
    /// The format byte that starts every sealed value.
    public static let formatByte: UInt8 = 0xE5
    static let overhead = 2 + 12 + 16

    /// The id of the key that seals.
    public let currentID: UInt8
    /// Every key id, the current one first.
    public let ids: [UInt8]
    private let keys: [UInt8: AESGCMKey]
    /// The key of `currentID`.
    private let sealingKey: AESGCMKey
    private let nonces: SealingNonces

    /// Keys as `(id, 32 bytes)`, the sealing key first.
    public init(keys: [(id: UInt8, bytes: [UInt8])]) throws {
        guard let first = keys.first else {
            throw StoreError.invalidArgument.with(detail: "the encryption key list is empty")
        }
        var table: [UInt8: AESGCMKey] = [:]
        for (id, bytes) in keys {
            guard bytes.count == 32 else {
                throw StoreError.invalidArgument.with(detail: "encryption key \(id) is not 32 bytes (AES-256)")
            }
            guard table[id] == nil else {
                throw StoreError.invalidArgument.with(detail: "encryption key id \(id) appears twice")
            }
            table[id] = AESGCMKey(bytes)
        }
        currentID = first.id
        ids = keys.map(\.id)
        self.keys = table
        sealingKey = table[first.id]!
        nonces = .shared
    }

    /// Parses `id:base64key,id:base64key,...` (ids 0–255; keys are 32 bytes in standard or
    /// URL-safe base64). Errors name the entry, never the key.
    public init(parsing text: String) throws {
        var keys: [(id: UInt8, bytes: [UInt8])] = []
        for (index, entry) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let idText = parts[0].trimmingCharacters(in: .whitespaces)
            guard parts.count == 2, let id = UInt8(idText) else {
                throw StoreError.invalidArgument.with(
                    detail: "encryption key entry \(index + 1) is not ID:BASE64KEY with an id from 0 to 255")
            }
            guard let bytes = Self.base64(parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw StoreError.invalidArgument.with(detail: "encryption key \(id) is not base64")
            }
            keys.append((id, bytes))
        }
        try self.init(keys: keys)
    }

    /// A fresh random key with id 0, known only to this process: what it seals is unreadable
    /// after a restart.
    public static func ephemeral() -> SealingKeyring {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return try! SealingKeyring(keys: [(0, key)])
    }

    /// Whether `bytes` look like a sealed value (format byte and room for nonce and tag).
    public static func isSealed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= overhead && bytes[0] == formatByte
    }

    /// Encrypts under the current key. `context` is authenticated but not stored.
    public func seal(_ plaintext: [UInt8], context: [UInt8]) -> [UInt8] {
        let header = (Self.formatByte, currentID)
        return Self.withAAD(header, context) { aad in
            nonces.withNextBytes { nonce in sealingKey.seal(plaintext, header: header, nonce: nonce, aad: aad) }
        }
    }

    /// Decrypts a sealed value under whichever listed key it names.
    public func open(_ sealed: [UInt8], context: [UInt8]) throws(SealingFailure) -> [UInt8] {
        guard Self.isSealed(sealed) else { throw .notSealed }
        guard let key = keys[sealed[1]] else { throw .unknownKey(sealed[1]) }
        // Nonce, ciphertext and tag follow the two header bytes.
        let opened = Self.withAAD((sealed[0], sealed[1]), context) { aad in key.open(sealed[2...], aad: aad) }
        guard let opened else { throw .notAuthentic }
        return opened
    }

    /// The authenticated data: the two header bytes, then `context`, in a stack buffer.
    private static func withAAD<R>(
        _ header: (UInt8, UInt8), _ context: [UInt8], _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 + context.count) { aad in
            aad[0] = header.0
            aad[1] = header.1
            _ = UnsafeMutableBufferPointer(rebasing: aad[2...]).initialize(fromContentsOf: context)
            return body(UnsafeRawBufferPointer(aad))
        }
    }

    private static func base64(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}

/// Why a stored value did not open. Carries no part of the value.
public enum SealingFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The value is plaintext (written before a key was configured).
    case notSealed
    /// Sealed under a key id that is not in the list (removed too early).
    case unknownKey(UInt8)
    /// Altered, or moved to another cookie or user.
    case notAuthentic

    public var description: String {
        switch self {
        case .notSealed: "not encrypted"
        case .unknownKey(let id): "encrypted under key \(id), which is not configured"
        case .notAuthentic: "does not authenticate"
        }
    }
}

/// What a sealed value is bound to, so it opens only in its place.
enum SealingContext {
    static func cookie(name: String, domain: String, path: String) -> [UInt8] {
        let label = "tokenjar cookie"
        var out: [UInt8] = []
        out.reserveCapacity(label.utf8.count + 12 + name.utf8.count + domain.utf8.count + path.utf8.count)
        out.append(contentsOf: label.utf8)
        appendCounted(name, to: &out)
        appendCounted(domain, to: &out)
        appendCounted(path, to: &out)
        return out
    }

    /// `part`'s UTF-8 length as 4 bytes big-endian, then its UTF-8.
    private static func appendCounted(_ part: String, to out: inout [UInt8]) {
        let count = UInt32(part.utf8.count).bigEndian
        withUnsafeBytes(of: count) { out.append(contentsOf: $0) }
        out.append(contentsOf: part.utf8)
    }

    static func sharedValue(key: String) -> [UInt8] {
        Array("tokenjar shared value".utf8) + [0] + Array(key.utf8)
    }

    static func sessionKey(openID: String) -> [UInt8] {
        Array("tokenjar session key".utf8) + [0] + Array(openID.utf8)
    }
}
