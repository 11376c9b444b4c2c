import Crypto
import Hummingbird

/// The bearer-token check of the sessions API.
///
/// Both the expected token and the presented one are hashed (SHA-256) and the digests compared
/// in constant time, so neither the content nor the length of the token leaks through timing.
/// Without a configured token every call is refused.
struct AdminAuth: Sendable {
    private let expectedDigest: [UInt8]?

    init(token: String?) {
        if let token, !token.isEmpty {
            expectedDigest = Array(SHA256.hash(data: Array(token.utf8)))
        } else {
            expectedDigest = nil
        }
    }

    var isConfigured: Bool { expectedDigest != nil }

    /// Throws the error to answer unless the request carries the admin token.
    func check(_ request: Request) throws(AdminError) {
        guard let expectedDigest else { throw .closed }
        guard let header = request.headers[.authorization] else { throw .unauthorized }
        let scheme = header.prefix(7)
        guard scheme.lowercased() == "bearer " else { throw .unauthorized }
        let presented = Array(SHA256.hash(data: Array(header.dropFirst(7).utf8)))
        guard Self.constantTimeEquals(presented, expectedDigest) else { throw .unauthorized }
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
