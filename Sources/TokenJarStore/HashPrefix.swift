/// A prefix of a token hash in hex, as admins type it (for example `TokenHash.shortHex`).
public struct HashPrefix: Sendable {
    /// The prefix in lower case.
    public let hex: String
    /// The smallest and largest 32-byte hashes that start with the prefix.
    public let lower: [UInt8]
    public let upper: [UInt8]

    /// Fails with `StoreError.invalidArgument` when the text is not up to 64 hex digits.
    public init(_ text: String) throws {
        let hex = text.lowercased()
        guard hex.utf8.count <= 64, hex.utf8.allSatisfy({ Self.nibble($0) != nil }) else {
            throw StoreError.invalidArgument.with(detail: "a hash prefix is up to 64 hex digits")
        }
        self.hex = hex
        lower = Self.bytes(hex.utf8.map { Self.nibble($0)! } + Array(repeating: 0, count: 64 - hex.utf8.count))
        upper = Self.bytes(hex.utf8.map { Self.nibble($0)! } + Array(repeating: 15, count: 64 - hex.utf8.count))
    }

    public func matches(_ hash: TokenHash) -> Bool { hash.hex.hasPrefix(hex) }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static func bytes(_ nibbles: [UInt8]) -> [UInt8] {
        stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }
}
