import CookieEngine
import NIOHTTP1

/// Header rules shared by both directions of the proxy.
enum HopByHop {
    /// Headers that describe one connection, never the message (RFC 9110 §7.6.1).
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
    ]

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
    /// The header block the backend receives.
    static func upstreamHeaders(from client: HTTPHeaders, _ ctx: ForwardingContext) -> HTTPHeaders {
        let connectionNames = HopByHop.names(in: client)
        var out = HTTPHeaders()
        out.reserveCapacity(client.count + 4)
        var clientCookies: [String] = []
        var forwardedFor: String?
        for (name, value) in client {
            let lower = name.lowercased()
            if let connectionNames {
                if connectionNames.contains(lower) { continue }
            } else if HopByHop.names.contains(lower) {
                continue
            }
            switch lower {
            case "cookie":
                if !ctx.dropClientCookies { clientCookies.append(value) }
                continue
            case "x-forwarded-for":
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                continue
            case "x-forwarded-proto", "x-forwarded-host":
                continue
            default:
                break
            }
            if lower == ctx.tokenHeader || ctx.identityHeaders.contains(lower) { continue }
            out.add(name: name, value: value)
        }
        if let cookie = mergedCookie(jar: ctx.cookie, client: clientCookies) {
            out.add(name: "Cookie", value: cookie)
        }
        if let addr = ctx.clientAddress {
            out.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + addr } ?? addr)
        }
        out.add(name: "X-Forwarded-Proto", value: ctx.scheme)
        if let host = ctx.host { out.add(name: "X-Forwarded-Host", value: host) }
        if let identity = ctx.identity, ctx.identityHeaders.count >= 1 {
            out.add(name: ctx.identityHeaders[0], value: identity.openID)
            if let union = identity.unionID, ctx.identityHeaders.count >= 2 {
                out.add(name: ctx.identityHeaders[1], value: union)
            }
        }
        if ctx.chunkedBody { out.add(name: "Transfer-Encoding", value: "chunked") }
        return out
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
        func forbidden(_ text: String) -> Bool {
            text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
        }
        return headers.contains { forbidden($0.name) || forbidden($0.value) }
    }

    /// Removes hop-by-hop headers and (unless passed through) Set-Cookie; returns the Set-Cookie
    /// field values in order.
    static func clientHeaders(from upstream: inout HTTPHeaders, passSetCookie: Bool) -> [String] {
        let setCookie = upstream["set-cookie"]
        let names = HopByHop.names(in: upstream) ?? HopByHop.names
        upstream.remove(name: "connection")
        for name in names { upstream.remove(name: name) }
        if !passSetCookie && !setCookie.isEmpty { upstream.remove(name: "set-cookie") }
        return setCookie
    }
}
