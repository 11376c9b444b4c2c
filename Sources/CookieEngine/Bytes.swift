#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Byte-level helpers shared by the parsers. Everything here works on UTF-8 bytes; the parsers
// only ever cut strings at ASCII delimiters, so slices of valid UTF-8 stay valid UTF-8.

@usableFromInline
typealias Bytes = UnsafeBufferPointer<UInt8>

@usableFromInline
enum ASCII {
    static let tab: UInt8 = 0x09
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let comma: UInt8 = 0x2C
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let question: UInt8 = 0x3F
    static let hash: UInt8 = 0x23

    /// WSP: SP or HTAB.
    @inline(__always)
    static func isWSP(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// ASCII lower-casing of one byte.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { (b &- 0x41) < 26 ? b | 0x20 : b }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { (b &- 0x30) < 10 }

    /// The control characters that make RFC 6265bis §5.6 ignore a set-cookie-string:
    /// %x00-08 / %x0A-1F / %x7F (CTLs other than HTAB).
    @inline(__always)
    static func isForbiddenControl(_ b: UInt8) -> Bool { (b < 0x20 && b != 0x09) || b == 0x7F }

    /// tchar of RFC 9110 §5.6.2.
    @inline(__always)
    static func isTchar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The range `lo..<hi` without leading and trailing WSP.
    @inline(__always)
    func trimmedWSP(_ lo: Int, _ hi: Int) -> Range<Int> {
        var a = lo, b = hi
        while a < b, ASCII.isWSP(self[a]) { a += 1 }
        while b > a, ASCII.isWSP(self[b - 1]) { b -= 1 }
        return a..<b
    }

    /// The first index of `byte` in `lo..<hi`, or `hi`.
    @inline(__always)
    func firstIndex(of byte: UInt8, _ lo: Int, _ hi: Int) -> Int {
        var i = lo
        while i < hi, self[i] != byte { i += 1 }
        return i
    }

    /// A String of the bytes in `r` (valid UTF-8 by construction).
    @inline(__always)
    func string(_ r: Range<Int>) -> String {
        if r.isEmpty { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: self[r]), as: UTF8.self)
    }

    /// A String of the bytes in `r`, ASCII letters lower-cased.
    func lowercasedString(_ r: Range<Int>) -> String {
        var hasUpper = false
        for i in r where (self[i] &- 0x41) < 26 {
            hasUpper = true
            break
        }
        if !hasUpper { return string(r) }
        return String(unsafeUninitializedCapacity: r.count) { out in
            var k = 0
            for i in r {
                out[k] = ASCII.lower(self[i])
                k += 1
            }
            return k
        }
    }

    /// Whether the bytes in `r` equal `lowerLiteral` ignoring ASCII case (`lowerLiteral` must be
    /// lower-case ASCII).
    @inline(__always)
    func equalsIgnoringCase(_ r: Range<Int>, _ lowerLiteral: StaticString) -> Bool {
        let n = lowerLiteral.utf8CodeUnitCount
        guard r.count == n else { return false }
        let p = lowerLiteral.utf8Start
        var i = 0
        while i < n {
            if ASCII.lower(self[r.lowerBound + i]) != p[i] { return false }
            i += 1
        }
        return true
    }

    /// Whether the bytes in `r` start with `lowerLiteral` ignoring ASCII case.
    @inline(__always)
    func hasPrefixIgnoringCase(_ r: Range<Int>, _ lowerLiteral: StaticString) -> Bool {
        let n = lowerLiteral.utf8CodeUnitCount
        guard r.count >= n else { return false }
        return equalsIgnoringCase(r.lowerBound..<(r.lowerBound + n), lowerLiteral)
    }
}

/// Runs `body` over the UTF-8 bytes of any string-like value.
@inline(__always)
func withUTF8Bytes<S: StringProtocol, R>(of s: S, _ body: (Bytes) throws -> R) rethrows -> R {
    if let r = try s.utf8.withContiguousStorageIfAvailable(body) { return r }
    let copy = Array(s.utf8)
    return try copy.withUnsafeBufferPointer(body)
}

/// Runs `body` over the UTF-8 bytes of `s` (native and small strings need no copy).
@inline(__always)
@usableFromInline
func fastUTF8<R>(_ s: String, _ body: (Bytes) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
    return Array(s.utf8).withUnsafeBufferPointer(body)
}

/// Whether `n` bytes at `a` and `b` are equal (word-wise; avoids a libc call for short runs).
@inline(__always)
@usableFromInline
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// Byte-wise equality of two strings (String's `==` uses Unicode canonical equivalence, which
/// cookie names, values, domains and paths must not).
@inline(__always)
@usableFromInline
func utf8Equal(_ a: String, _ b: String) -> Bool {
    if a.utf8.count != b.utf8.count { return false }
    return fastUTF8(a) { pa in
        fastUTF8(b) { pb in Match.equal(pa, pb) }
    }
}

/// Cookie-path and domain predicates on UTF-8 bytes.
enum Match {
    @inline(__always)
    static func equal(_ a: Bytes, _ b: Bytes) -> Bool {
        a.count == b.count && (a.count == 0 || bytesEqual(a.baseAddress!, b.baseAddress!, a.count))
    }

    /// RFC 6265bis §5.1.3 domain-match: `host` domain-matches `domain` when they are identical, or
    /// when `domain` is a suffix of `host` preceded by a dot and `host` is a host name (not an IP).
    @inline(__always)
    static func domain(_ host: String, _ domain: String, hostIsIP: Bool) -> Bool {
        fastUTF8(host) { h in fastUTF8(domain) { d in Match.domain(h, d, hostIsIP: hostIsIP) } }
    }

    @inline(__always)
    static func domain(_ h: Bytes, _ d: Bytes, hostIsIP: Bool) -> Bool {
        let hc = h.count, dc = d.count
        if hc == dc { return equal(h, d) }
        if hostIsIP || dc == 0 || hc <= dc { return false }
        return h[hc - dc - 1] == ASCII.dot && bytesEqual(h.baseAddress! + (hc - dc), d.baseAddress!, dc)
    }

    /// RFC 6265bis §5.1.4 path-match of a request path against a cookie path.
    @inline(__always)
    static func path(_ requestPath: String, _ cookiePath: String) -> Bool {
        fastUTF8(requestPath) { r in fastUTF8(cookiePath) { c in Match.path(r, c) } }
    }

    @inline(__always)
    static func path(_ r: Bytes, _ c: Bytes) -> Bool {
        let rc = r.count, cc = c.count
        if rc < cc || cc == 0 { return false }
        guard bytesEqual(r.baseAddress!, c.baseAddress!, cc) else { return false }
        return rc == cc || c[cc - 1] == ASCII.slash || r[cc] == ASCII.slash
    }
}
