/// What a request or response URL means for cookies: whether its scheme is secure, its
/// canonicalized host (RFC 6265bis §5.1.2: lower-cased, no port) and its path (no query, no
/// fragment, never empty). No percent-decoding and no dot-segment removal are applied.
public struct CookieURL: Sendable, Hashable, CustomStringConvertible {
    /// Whether the scheme is `https` or `wss`.
    public let isSecure: Bool
    /// The canonicalized host: ASCII lower-case, without port; an IPv6 literal keeps its brackets.
    public let host: String
    /// The path, starting with "/".
    public let path: String
    /// Whether `host` is an IPv4 or IPv6 address rather than a host name.
    public let hostIsIPAddress: Bool
    /// Whether `host` is `localhost`, a `.localhost` name, an address in 127.0.0.0/8 or `[::1]`
    /// (potentially trustworthy origins; see ``CookiePolicy/treatsLoopbackAsSecure``).
    public let hostIsLoopback: Bool

    /// Parses `scheme://[userinfo@]host[:port][/path][?query][#fragment]` for the schemes http,
    /// https, ws and wss. Returns nil for other schemes or an empty host.
    public init?(string: String) {
        let parts: (secure: Bool, host: String, path: String)? = fastUTF8(string) { buf in
            let n = buf.count
            var i = 0
            while i < n, buf[i] != ASCII.colon { i += 1 }
            guard i + 2 < n, buf[i + 1] == ASCII.slash, buf[i + 2] == ASCII.slash else { return nil }
            let secure: Bool
            if buf.equalsIgnoringCase(0..<i, "https") || buf.equalsIgnoringCase(0..<i, "wss") {
                secure = true
            } else if buf.equalsIgnoringCase(0..<i, "http") || buf.equalsIgnoringCase(0..<i, "ws") {
                secure = false
            } else {
                return nil
            }
            let authStart = i + 3
            var authEnd = authStart
            while authEnd < n, buf[authEnd] != ASCII.slash, buf[authEnd] != ASCII.question,
                  buf[authEnd] != ASCII.hash {
                authEnd += 1
            }
            var hostStart = authStart
            for k in authStart..<authEnd where buf[k] == 0x40 { hostStart = k + 1 }  // userinfo@
            var pathEnd = authEnd
            while pathEnd < n, buf[pathEnd] != ASCII.question, buf[pathEnd] != ASCII.hash { pathEnd += 1 }
            return (secure, buf.string(hostStart..<authEnd), buf.string(authEnd..<pathEnd))
        }
        guard let parts else { return nil }
        self.init(isSecure: parts.secure, host: parts.host, path: parts.path)
        if host.isEmpty { return nil }
    }

    /// A URL from its parts. `host` may carry a `:port` (it is stripped) and is lower-cased;
    /// `path` loses any query or fragment and becomes "/" when empty or not absolute.
    public init(isSecure: Bool, host: String, path: String) {
        self.isSecure = isSecure
        let h = CookieURL.canonicalHost(host)
        self.host = h
        self.path = CookieURL.canonicalPath(path)
        self.hostIsIPAddress = CookieURL.isIPAddress(h)
        self.hostIsLoopback = CookieURL.isLoopback(h, ip: hostIsIPAddress)
    }

    public var description: String { (isSecure ? "https://" : "http://") + host + path }

    /// The default-path of RFC 6265bis §5.1.4 for a cookie set by a response from this URL.
    public var defaultPath: String {
        fastUTF8(path) { buf in
            let n = buf.count
            guard n > 0, buf[0] == ASCII.slash else { return "/" }
            var last = n - 1
            while last > 0, buf[last] != ASCII.slash { last -= 1 }
            if last == 0 { return "/" }
            return buf.string(0..<last)
        }
    }

    static func canonicalHost(_ raw: String) -> String {
        fastUTF8(raw) { buf in
            let r = buf.trimmedWSP(0, buf.count)
            let lo = r.lowerBound
            var hi = r.upperBound
            if lo < hi, buf[lo] == 0x5B {  // [IPv6]:port
                var k = lo
                while k < hi, buf[k] != 0x5D { k += 1 }
                if k < hi { hi = k + 1 }
            } else {
                var colons = 0, lastColon = -1
                for k in lo..<hi where buf[k] == ASCII.colon {
                    colons += 1
                    lastColon = k
                }
                if colons == 1 {
                    hi = lastColon
                } else if colons > 1 {
                    // A bare IPv6 literal: keep it whole, in brackets, like a URL would.
                    return "[" + buf.lowercasedString(lo..<hi) + "]"
                }
            }
            return buf.lowercasedString(lo..<hi)
        }
    }

    static func canonicalPath(_ raw: String) -> String {
        let cut: Int? = fastUTF8(raw) { buf in
            for i in 0..<buf.count where buf[i] == ASCII.question || buf[i] == ASCII.hash { return i }
            return nil
        }
        let p: String
        if let cut { p = fastUTF8(raw) { $0.string(0..<cut) } } else { p = raw }
        if p.utf8.first != ASCII.slash { return "/" }
        return p
    }

    /// IPv6 literals (bracketed) and host names whose last label is numeric (the WHATWG URL
    /// "ends in a number" rule, so `127.0.0.1` and `10.1` are addresses).
    static func isIPAddress(_ host: String) -> Bool {
        fastUTF8(host) { buf in
            let n = buf.count
            guard n > 0 else { return false }
            if buf[0] == 0x5B { return true }
            var end = n
            if buf[end - 1] == ASCII.dot { end -= 1 }  // "1.2.3.4." still ends in a number
            var start = end
            while start > 0, buf[start - 1] != ASCII.dot { start -= 1 }
            guard start < end else { return false }
            if end - start >= 2, buf[start] == 0x30, ASCII.lower(buf[start + 1]) == 0x78 {  // 0x..
                for k in (start + 2)..<end {
                    let c = ASCII.lower(buf[k])
                    if !(ASCII.isDigit(c) || (c >= 0x61 && c <= 0x66)) { return false }
                }
                return true
            }
            for k in start..<end where !ASCII.isDigit(buf[k]) { return false }
            return true
        }
    }

    static func isLoopback(_ host: String, ip: Bool) -> Bool {
        if ip { return host.hasPrefix("127.") || host == "[::1]" || host == "[0:0:0:0:0:0:0:1]" }
        return host == "localhost" || host.hasSuffix(".localhost") || host == "localhost."
    }
}
