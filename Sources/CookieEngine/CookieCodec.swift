/// Errors from ``CookieCodec/decode(_:)``.
public enum CookieCodecError: Error, Sendable, Hashable {
    /// No bytes at all.
    case empty
    /// The first byte names a format version this build does not know.
    case unsupportedVersion(UInt8)
    /// The input ended in the middle of a field.
    case truncated
    /// Flag bits this version does not define were set.
    case invalidFlags(UInt8)
    /// A SameSite value this version does not define.
    case invalidSameSite(UInt8)
    /// A string field is not valid UTF-8.
    case invalidUTF8
    /// A length prefix is malformed or larger than the input.
    case invalidLength
    /// Bytes remained after the cookie.
    case trailingBytes(Int)
}

/// The stable binary form of a cookie for storage.
///
/// Version 1 layout (all integers little-endian):
///
///     u8      version (1)
///     u8      flags: 0x01 host-only, 0x02 secure, 0x04 http-only, 0x08 has expiry
///     u8      SameSite: 0 unspecified, 1 None, 2 Lax, 3 Strict
///     i64     creation (µs since the epoch)
///     i64     last access (µs)
///     i64     expiry (µs), only with flag 0x08
///     name, value, domain, path: each an unsigned LEB128 length then that many UTF-8 bytes
///
/// Decoding rejects unknown versions, undefined flag bits and SameSite values, truncated input,
/// invalid UTF-8 and trailing bytes.
public enum CookieCodec {
    public static let currentVersion: UInt8 = 1

    public static func encode(_ cookie: Cookie) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(3 + 24 + 8 + cookie.name.utf8.count + cookie.value.utf8.count
            + cookie.domain.utf8.count + cookie.path.utf8.count)
        out.append(currentVersion)
        var flags: UInt8 = 0
        if cookie.hostOnly { flags |= 0x01 }
        if cookie.secure { flags |= 0x02 }
        if cookie.httpOnly { flags |= 0x04 }
        if cookie.expiry != nil { flags |= 0x08 }
        out.append(flags)
        out.append(cookie.sameSite.rawValue)
        appendInt64(&out, cookie.creation.microsecondsSinceEpoch)
        appendInt64(&out, cookie.lastAccess.microsecondsSinceEpoch)
        if let e = cookie.expiry { appendInt64(&out, e.microsecondsSinceEpoch) }
        for s in [cookie.name, cookie.value, cookie.domain, cookie.path] {
            var n = UInt64(s.utf8.count)
            while n >= 0x80 {
                out.append(UInt8(n & 0x7F) | 0x80)
                n >>= 7
            }
            out.append(UInt8(n))
            out.append(contentsOf: s.utf8)
        }
        return out
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws(CookieCodecError) -> Cookie {
        let result: Result<Cookie, CookieCodecError>
        if let r = bytes.withContiguousStorageIfAvailable({ decodeResult($0) }) {
            result = r
        } else {
            result = Array(bytes).withUnsafeBufferPointer { decodeResult($0) }
        }
        return try result.get()
    }

    static func decodeResult(_ buf: Bytes) -> Result<Cookie, CookieCodecError> {
        var r = Reader(buf: buf)
        do {
            return .success(try r.cookie())
        } catch {
            return .failure(error)
        }
    }

    private static func appendInt64(_ out: inout [UInt8], _ v: Int64) {
        var u = UInt64(bitPattern: v)
        for _ in 0..<8 {
            out.append(UInt8(truncatingIfNeeded: u))
            u >>= 8
        }
    }

    struct Reader {
        let buf: Bytes
        var i = 0

        mutating func byte() throws(CookieCodecError) -> UInt8 {
            guard i < buf.count else { throw .truncated }
            defer { i += 1 }
            return buf[i]
        }

        mutating func int64() throws(CookieCodecError) -> Int64 {
            guard buf.count - i >= 8 else { throw .truncated }
            var u: UInt64 = 0
            for k in 0..<8 { u |= UInt64(buf[i + k]) << (8 * UInt64(k)) }
            i += 8
            return Int64(bitPattern: u)
        }

        mutating func string() throws(CookieCodecError) -> String {
            var n: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 63 else { throw .invalidLength }
                n |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            guard n <= UInt64(buf.count - i) else { throw .truncated }
            let r = i..<(i + Int(n))
            i += Int(n)
            let raw = UnsafeBufferPointer(rebasing: buf[r])
            let s = String(decoding: raw, as: UTF8.self)
            // Decoding repairs invalid UTF-8; a repaired string differs from its bytes.
            guard s.utf8.elementsEqual(raw) else { throw .invalidUTF8 }
            return s
        }

        mutating func cookie() throws(CookieCodecError) -> Cookie {
            guard !buf.isEmpty else { throw .empty }
            let version = try byte()
            guard version == CookieCodec.currentVersion else { throw .unsupportedVersion(version) }
            let flags = try byte()
            guard flags & ~0x0F == 0 else { throw .invalidFlags(flags) }
            let ss = try byte()
            guard let sameSite = SameSite(rawValue: ss) else { throw .invalidSameSite(ss) }
            let creation = try int64()
            let lastAccess = try int64()
            let expiry: CookieTime? = flags & 0x08 != 0 ? CookieTime(microsecondsSinceEpoch: try int64()) : nil
            let name = try string()
            let value = try string()
            let domain = try string()
            let path = try string()
            guard i == buf.count else { throw .trailingBytes(buf.count - i) }
            return Cookie(
                name: name, value: value, domain: domain, path: path, expiry: expiry,
                creation: CookieTime(microsecondsSinceEpoch: creation),
                lastAccess: CookieTime(microsecondsSinceEpoch: lastAccess), hostOnly: flags & 0x01 != 0,
                secure: flags & 0x02 != 0, httpOnly: flags & 0x04 != 0, sameSite: sameSite)
        }
    }
}
