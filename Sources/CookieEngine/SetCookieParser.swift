/// The fields of one parsed set-cookie-string, as byte ranges into the input plus decoded
/// attribute values (RFC 6265bis §5.6). Internal: valid only while the input buffer is.
struct SetCookieFields {
    var name: Range<Int>
    var value: Range<Int>
    /// The last Expires attribute that parsed as a cookie-date (uncapped).
    var expires: CookieTime?
    /// The last valid Max-Age attribute, in seconds (may be zero or negative).
    var maxAge: Int64?
    /// Whether a Domain attribute (of acceptable length) was seen; `domain` is the last one's
    /// trimmed value, which may be empty.
    var hasDomain = false
    var domain: Range<Int> = 0..<0
    /// Whether a Path attribute was seen; `path` is the last one's trimmed value.
    var hasPath = false
    var path: Range<Int> = 0..<0
    var secure = false
    var httpOnly = false
    var sameSite: SameSite = .unspecified
}

/// Why a set-cookie-string did not produce a stored cookie; for diagnostics.
public enum SetCookieRejection: String, Error, Sendable, Hashable, CaseIterable {
    case controlCharacter = "contains a control character (other than tab)"
    case emptyNameAndValue = "name and value are both empty"
    case tooLarge = "name plus value exceed the size limit"
    case namelessWithPrefix = "nameless cookie whose value starts with __Secure- or __Host-"
    case nonASCIIDomain = "Domain attribute is not ASCII"
    case ipDomainMismatch = "Domain attribute differs from the IP address host"
    case publicSuffixDomain = "Domain attribute is a public suffix"
    case domainMismatch = "request host does not domain-match the Domain attribute"
    case secureFromInsecureOrigin = "Secure cookie from an insecure origin"
    case sameSiteNoneWithoutSecure = "SameSite=None without Secure"
    case secureCookieShadowing = "would overwrite or shadow a Secure cookie from an insecure origin"
    case securePrefix = "__Secure- prefix without Secure"
    case hostPrefix = "__Host- prefix without Secure, host-only and Path=/"
}

enum SetCookieParser {
    /// Parses the set-cookie-string `lo..<hi` of `buf` (RFC 6265bis §5.6).
    @inline(__always)
    static func parse(
        _ buf: Bytes, _ lo: Int, _ hi: Int, limits: CookieLimits
    ) -> Result<SetCookieFields, SetCookieRejection> {
        // Step 1: CTLs other than HTAB make the whole string ignored.
        var semicolon = hi
        var i = lo
        while i < hi {
            let c = buf[i]
            if c < 0x20 || c == 0x7F {
                if c != ASCII.tab { return .failure(.controlCharacter) }
            } else if c == ASCII.semicolon, semicolon == hi {
                semicolon = i
            }
            i += 1
        }
        // Steps 2-4: the name-value-pair; without "=", the name is empty and the whole pair is
        // the value.
        let eq = buf.firstIndex(of: ASCII.equals, lo, semicolon)
        let name: Range<Int>
        let value: Range<Int>
        if eq == semicolon {
            name = lo..<lo
            value = buf.trimmedWSP(lo, semicolon)
        } else {
            name = buf.trimmedWSP(lo, eq)
            value = buf.trimmedWSP(eq + 1, semicolon)
        }
        if name.isEmpty && value.isEmpty { return .failure(.emptyNameAndValue) }
        if name.count + value.count > limits.maxNameValueBytes { return .failure(.tooLarge) }

        var f = SetCookieFields(name: name, value: value)
        // §5.6 attribute loop.
        var pos = semicolon
        while pos < hi {
            let avStart = pos + 1
            var avEnd = avStart
            var avEq = -1
            while avEnd < hi, buf[avEnd] != ASCII.semicolon {
                if avEq < 0, buf[avEnd] == ASCII.equals { avEq = avEnd }
                avEnd += 1
            }
            pos = avEnd
            let an: Range<Int>
            let av: Range<Int>
            if avEq >= 0 {
                an = buf.trimmedWSP(avStart, avEq)
                av = buf.trimmedWSP(avEq + 1, avEnd)
            } else {
                an = buf.trimmedWSP(avStart, avEnd)
                av = avEnd..<avEnd
            }
            if av.count > limits.maxAttributeValueBytes { continue }
            switch an.count {
            case 4:
                if buf.equalsIgnoringCase(an, "path") {
                    f.hasPath = true
                    f.path = av
                }
            case 6:
                if buf.equalsIgnoringCase(an, "domain") {
                    f.hasDomain = true
                    f.domain = av
                } else if buf.equalsIgnoringCase(an, "secure") {
                    f.secure = true
                }
            case 7:
                if buf.equalsIgnoringCase(an, "expires") {
                    if let t = CookieDate.parse(buf, av.lowerBound, av.upperBound) { f.expires = t }
                } else if buf.equalsIgnoringCase(an, "max-age") {
                    if let s = parseMaxAge(buf, av) { f.maxAge = s }
                }
            case 8:
                if buf.equalsIgnoringCase(an, "httponly") {
                    f.httpOnly = true
                } else if buf.equalsIgnoringCase(an, "samesite") {
                    if buf.equalsIgnoringCase(av, "none") {
                        f.sameSite = .noRestriction
                    } else if buf.equalsIgnoringCase(av, "lax") {
                        f.sameSite = .lax
                    } else if buf.equalsIgnoringCase(av, "strict") {
                        f.sameSite = .strict
                    } else {
                        f.sameSite = .unspecified
                    }
                }
            default:
                break
            }
        }
        return .success(f)
    }

    /// Max-Age (§5.6.2): a DIGIT or "-" first, DIGITs after; anything else ignores the attribute.
    /// Saturates far beyond any cap.
    @inline(__always)
    static func parseMaxAge(_ buf: Bytes, _ r: Range<Int>) -> Int64? {
        guard !r.isEmpty else { return nil }
        var i = r.lowerBound
        var negative = false
        if buf[i] == 0x2D {
            negative = true
            i += 1
        }
        guard i < r.upperBound else { return nil }
        var v: Int64 = 0
        while i < r.upperBound {
            let d = buf[i] &- 0x30
            guard d < 10 else { return nil }
            if v < 1 << 50 { v = v * 10 + Int64(d) }
            i += 1
        }
        return negative ? -v : v
    }
}
