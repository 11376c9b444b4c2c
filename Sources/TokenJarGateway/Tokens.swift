import Crypto
import TokenJarStore

/// Client tokens: 256 bits from the system CSPRNG, as URL-safe base64 without padding (43 chars).
public enum SessionToken {
    /// Length of a well-formed token.
    public static let length = 43

    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// A fresh token. `SystemRandomNumberGenerator` reads the kernel CSPRNG (getrandom).
    public static func mint() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in stride(from: 0, to: 32, by: 8) {
            let word = rng.next()
            for j in 0..<8 { bytes[i + j] = UInt8(truncatingIfNeeded: word >> (UInt64(j) * 8)) }
        }
        return encode(bytes)
    }

    /// Base64url without padding. `package` for the package's fuzz target.
    package static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a client-sent value has the shape of a token we could have minted. Anything else
    /// is treated as no token at all (and never looked up or adopted).
    public static func isWellFormed(_ value: some StringProtocol) -> Bool {
        var count = 0
        for b in value.utf8 {
            count += 1
            guard count <= length else { return false }
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return false
            }
        }
        return count == length
    }

    /// The SHA-256 of a token: the only form a store ever sees.
    public static func hash(_ token: some StringProtocol) -> TokenHash {
        var hasher = SHA256()
        var token = String(token)
        token.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        // The digest's bytes in one copy (iterating the digest as a sequence goes byte by byte).
        return TokenHash(bytes: hasher.finalize().withUnsafeBytes { Array($0) })!
    }
}
