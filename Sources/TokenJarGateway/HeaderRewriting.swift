import CookieEngine
import NIOHTTP1

/// Header rules shared by both directions of the proxy.
enum HopByHop {
    /// Headers that describe one connection, never the message (RFC 9110 §7.6.1).
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Whether `name` is one of the fixed hop-by-hop names, compared without allocating.
    static func isFixed(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: ASCIICase.equal(name, "te")
        case 7: ASCIICase.equal(name, "trailer") || ASCIICase.equal(name, "upgrade")
        case 10: ASCIICase.equal(name, "connection") || ASCIICase.equal(name, "keep-alive")
        case 16: ASCIICase.equal(name, "proxy-connection")
        case 17: ASCIICase.equal(name, "transfer-encoding")
        case 18: ASCIICase.equal(name, "proxy-authenticate")
        case 19: ASCIICase.equal(name, "proxy-authorization")
        default: false
        }
    }

    /// Appends the names a Connection field value lists (comma-separated, spaces and tabs
    /// trimmed, empty ones skipped), found over its UTF-8 rather than its characters.
    static func appendListed(in value: String, to listed: inout [Substring]) {
        let bytes = value.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let comma = bytes[start...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
            var end = comma
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
            while start < end {
                let last = bytes.index(before: end)
                guard bytes[last] == 0x20 || bytes[last] == 0x09 else { break }
                end = last
            }
            if start < end { listed.append(Substring(bytes[start..<end])) }
            start = comma == bytes.endIndex ? comma : bytes.index(after: comma)
        }
    }

    /// The hop-by-hop names of a message: the fixed set plus what its Connection header lists.
    static func names(in headers: HTTPHeaders) -> Set<String>? {
        let listed = headers[canonicalForm: "connection"]
        guard !listed.isEmpty else { return nil }
        var set = names
        for name in listed { set.insert(name.lowercased()) }
        return set
    }
}

/// What the gateway adds to a request on its way to the backend.
struct ForwardingContext {
    var tokenHeader: String
    var identityHeaders: [String]
    var clientAddress: String?
    var scheme: String
    var host: String?
    var cookie: String?
    var dropClientCookies: Bool
    var chunkedBody: Bool
    var identity: (openID: String, unionID: String?)?
}

enum RequestRewriter {
    /// The header block the backend receives. Built as an array and wrapped once:
    /// `HTTPHeaders.add` scans every name for non-ASCII bytes, and these names are tokens
    /// already (llhttp's, swift-nio-http2's and `WireSafety`'s checks, the configuration's).
    static func upstreamHeaders(from client: HTTPHeaders, _ ctx: ForwardingContext) -> HTTPHeaders {
        let connectionNames = HopByHop.names(in: client)
        var out: [(String, String)] = []
        out.reserveCapacity(client.count + 5)
        var clientCookies: [String] = []
        var forwardedFor: String?
        for (name, value) in client {
            if HopByHop.isFixed(name) { continue }
            if let connectionNames, connectionNames.contains(name.lowercased()) { continue }
            if ASCIICase.equal(name, "cookie") {
                if !ctx.dropClientCookies { clientCookies.append(value) }
                continue
            }
            if ASCIICase.equal(name, "x-forwarded-for") {
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                continue
            }
            if ASCIICase.equal(name, "x-forwarded-proto") || ASCIICase.equal(name, "x-forwarded-host") { continue }
            if ASCIICase.equal(name, ctx.tokenHeader) || ctx.identityHeaders.contains(where: { ASCIICase.equal(name, $0) }) {
                continue
            }
            out.append((name, value))
        }
        if let cookie = mergedCookie(jar: ctx.cookie, client: clientCookies) {
            out.append(("Cookie", cookie))
        }
        if let addr = ctx.clientAddress {
            out.append(("X-Forwarded-For", forwardedFor.map { $0 + ", " + addr } ?? addr))
        }
        out.append(("X-Forwarded-Proto", ctx.scheme))
        if let host = ctx.host { out.append(("X-Forwarded-Host", host)) }
        // Identities are checked at login; checked again here since the store hands them back.
        if let identity = ctx.identity, ctx.identityHeaders.count >= 1, WireSafety.isFieldValue(identity.openID) {
            out.append((ctx.identityHeaders[0], identity.openID))
            if let union = identity.unionID, ctx.identityHeaders.count >= 2, WireSafety.isFieldValue(union) {
                out.append((ctx.identityHeaders[1], union))
            }
        }
        if ctx.chunkedBody { out.append(("Transfer-Encoding", "chunked")) }
        return HTTPHeaders(out)
    }

    /// The jar's cookies first; client cookies whose names the jar already sends are dropped
    /// (the jar wins), and comma- or semicolon-joined client strings are normalized to `; `.
    static func mergedCookie(jar: String?, client: [String]) -> String? {
        guard !client.isEmpty else { return jar }
        var jarNames = Set<Substring>()
        if let jar {
            for pair in jar.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                jarNames.insert(trimmed.prefix(while: { $0 != "=" }))
            }
        }
        var parts: [String] = jar.map { [$0] } ?? []
        for value in client {
            for (name, val) in CookieHeaderParser.pairs(in: value) where !jarNames.contains(Substring(name)) {
                parts.append(name.isEmpty ? val : name + "=" + val)
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

enum ResponseRewriter {
    /// Whether a backend's header block holds CR, LF or NUL in a name or a value: a folded line,
    /// an injected header or a split response. Such a block is never forwarded.
    static func hasForbiddenBytes(_ headers: HTTPHeaders) -> Bool {
        for (name, value) in headers where holdsCRLFOrNUL(name) || holdsCRLFOrNUL(value) { return true }
        return false
    }

    /// One pass over the contiguous UTF-8 of `text` (a header's name or value always has it),
    /// eight bytes at a time.
    @inline(__always)
    static func holdsCRLFOrNUL(_ text: String) -> Bool {
        @inline(__always) func forbidden(_ byte: UInt8) -> Bool {
            // 0x00, 0x0A and 0x0D are the only bytes below 0x0E whose bit is set in 0x2401.
            byte < 0x0E && (0x2401 as UInt16) >> UInt16(byte) & 1 != 0
        }
        let ones: UInt64 = 0x0101_0101_0101_0101
        // Whether any byte of `word` is zero (exact: the borrow only ever marks bytes above a zero one).
        @inline(__always) func hasZeroByte(_ word: UInt64) -> Bool {
            (word &- ones) & ~word & (ones &* 0x80) != 0
        }
        if let found = text.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard let base = bytes.baseAddress else { return false }
            var index = 0
            while index + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if hasZeroByte(word) || hasZeroByte(word ^ (ones &* 0x0A)) || hasZeroByte(word ^ (ones &* 0x0D)) {
                    return true
                }
                index += 8
            }
            while index < bytes.count {
                if forbidden(base[index]) { return true }
                index += 1
            }
            return false
        }) {
            return found
        }
        return text.utf8.contains(where: forbidden)
    }

    /// Removes hop-by-hop headers and (unless passed through) Set-Cookie; returns the Set-Cookie
    /// field values in order.
    static func clientHeaders(from upstream: inout HTTPHeaders, passSetCookie: Bool) -> [String] {
        // One pass finds the Set-Cookie values, whether anything goes, and the names Connection
        // lists; a second pass, only when something goes, keeps the rest in order. No name is
        // lowercased, and the block is scanned twice however many names go (`HTTPHeaders.remove`
        // scans it once per name).
        var setCookie: [String] = []
        var listed: [Substring] = []
        var removes = false
        for (name, value) in upstream {
            if ASCIICase.equal(name, "set-cookie") {
                setCookie.append(value)
                removes = removes || !passSetCookie
            } else if HopByHop.isFixed(name) {
                removes = true
                if ASCIICase.equal(name, "connection") { HopByHop.appendListed(in: value, to: &listed) }
            }
        }
        guard removes else { return setCookie }
        var kept: [(String, String)] = []
        kept.reserveCapacity(upstream.count)
        for (name, value) in upstream {
            if HopByHop.isFixed(name) { continue }
            if !passSetCookie && ASCIICase.equal(name, "set-cookie") { continue }
            if !listed.isEmpty && listed.contains(where: { ASCIICase.equalFolding(name, $0) }) { continue }
            kept.append((name, value))
        }
        upstream = HTTPHeaders(kept)
        return setCookie
    }
}

/// ASCII case-insensitive comparison of header names, without lowercasing copies.
enum ASCIICase {
    /// Whether `a` equals `lower` ignoring ASCII case; `lower` must be lower-case.
    @inline(__always)
    static func equal(_ a: String, _ lower: String) -> Bool {
        let x = a.utf8, y = lower.utf8
        guard x.count == y.count else { return false }
        // Over the contiguous bytes (a native or literal string has them), not the views' indices.
        let fast = x.withContiguousStorageIfAvailable { xs in
            y.withContiguousStorageIfAvailable { ys -> Bool in
                for i in 0..<xs.count where fold(xs[i]) != ys[i] { return false }
                return true
            }
        }
        if let fast, let fast { return fast }
        var i = y.startIndex
        for byte in x {
            if fold(byte) != y[i] { return false }
            i = y.index(after: i)
        }
        return true
    }

    /// An ASCII upper-case letter made lower-case; any other byte as it is.
    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Whether `a` equals `b` ignoring ASCII case, both sides folded.
    static func equalFolding(_ a: String, _ b: Substring) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        var i = y.startIndex
        for byte in x {
            if fold(byte) != fold(y[i]) { return false }
            i = y.index(after: i)
        }
        return true
    }
}
