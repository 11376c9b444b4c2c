import NIOHTTP1

/// What may be written in an HTTP/1.1 head, by the same rules as NIO's outbound header
/// validators (RFC 9110 tokens for names and methods, no control byte but HTAB in a value,
/// RFC 3986 characters in a request target).
///
/// NIO's validators are off on both pipelines: they cost a handler hop per message and a scan of
/// every header. The gateway guarantees the same instead, at the points values enter:
/// - client heads over HTTP/1.1 and backend heads come from llhttp, which refuses any of these
///   bytes in names and values; client heads over HTTP/2 are checked here (swift-nio-http2
///   refuses only CR, LF and NUL in values);
/// - every request target is checked here, and so are reason phrases of unknown status codes;
/// - what the gateway adds is either fixed text or checked where it comes from (identities at
///   login and again when written, configured names and base paths when configured; cookies
///   only ever come from the Set-Cookie parser, which refuses control bytes).
public enum WireSafety {
    /// Whether `name` is an RFC 9110 token (a field name or a method).
    static func isToken(_ name: String) -> Bool {
        scan(name) { tokenBytes.contains($0) } && !name.isEmpty
    }

    /// Whether `value` holds no control byte other than HTAB, and no DEL.
    public static func isFieldValue(_ value: String) -> Bool {
        scan(value) { $0 >= 0x20 ? $0 != 0x7F : $0 == 0x09 }
    }

    /// Whether `target` holds only the characters a request target may carry on the wire
    /// (RFC 3986 unreserved, reserved and `%`; anything else must be percent-encoded).
    static func isRequestTarget(_ target: String) -> Bool {
        scan(target) { targetBytes.contains($0) }
    }

    /// Whether every name is a token and every value a valid field value.
    static func areFields(_ headers: HTTPHeaders) -> Bool {
        headers.allSatisfy { isToken($0.name) && isFieldValue($0.value) }
    }

    /// Whether a request head from a client may be forwarded as it is (method, target, headers).
    static func isForwardable(_ head: HTTPRequestHead) -> Bool {
        if case .RAW(let method) = head.method, !isToken(method) { return false }
        return isRequestTarget(head.uri) && areFields(head.headers)
    }

    /// Whether a status can be written as it is: known codes carry NIO's reason phrase; an unknown
    /// code carries the backend's, which must be HTAB, SP, visible ASCII or obs-text.
    static func isSendable(_ status: HTTPResponseStatus) -> Bool {
        guard case .custom(_, let reason) = status else { return true }
        return isFieldValue(reason)
    }

    /// Every byte of `text` satisfies `allowed`, over the contiguous UTF-8 when there is some.
    @inline(__always)
    private static func scan(_ text: String, _ allowed: (UInt8) -> Bool) -> Bool {
        if let result = text.utf8.withContiguousStorageIfAvailable({ bytes in
            for byte in bytes where !allowed(byte) { return false }
            return true
        }) {
            return result
        }
        return text.utf8.allSatisfy(allowed)
    }

    static let tokenBytes = ASCIISet(ranges: [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "!#$%&'*+-.^_`|~")
    static let targetBytes = ASCIISet(ranges: [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "-._~:/?#[]@!$&'()*+,;=%")
}

/// A set of ASCII bytes as two 64-bit masks: membership is a shift and a mask.
struct ASCIISet: Sendable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    init(ranges: [ClosedRange<UInt8>], _ others: String) {
        for range in ranges { for byte in range { insert(byte) } }
        for byte in others.utf8 { insert(byte) }
    }

    private mutating func insert(_ byte: UInt8) {
        precondition(byte < 0x80)
        if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        if byte < 64 { return low >> UInt64(byte) & 1 != 0 }
        if byte < 128 { return high >> UInt64(byte &- 64) & 1 != 0 }
        return false
    }
}
