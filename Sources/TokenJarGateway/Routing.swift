import NIOCore
import TokenJarStore

/// One backend instance a route sends traffic to.
public struct Upstream: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Prefix put before every forwarded path ("" for none).
    public var basePath: String
    public var isTLS: Bool

    public init(host: String, port: Int, basePath: String = "", isTLS: Bool = false) {
        self.host = host
        self.port = port
        // Sent before every forwarded path as it is; the configuration checks it too.
        precondition(WireSafety.isRequestTarget(basePath), "an upstream base path may hold only URL characters")
        self.basePath = basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath
        self.isTLS = isTLS
    }

    public var description: String { "\(isTLS ? "https" : "http")://\(host):\(port)\(basePath)" }
}

/// Which requests a route takes and how it treats them.
public struct RouteSpec: Sendable, Hashable {
    public enum HostMatch: Sendable, Hashable {
        case any
        case exact(String)
        /// `*.example.com`: any host ending in `.example.com`.
        case wildcard(suffix: String)
    }

    public var name: String
    public var host: HostMatch
    public var pathPrefix: String
    public var stripPrefix: Bool
    public var upstreams: [Upstream]
    /// Mint a token for requests without a valid one (`mint: auto`); otherwise answer 401.
    public var mintTokens: Bool
    /// Let the client see the backend's Set-Cookie fields (`set_cookie: pass`).
    public var passSetCookie: Bool
    /// Drop a Cookie header the client sent instead of merging it (`client_cookies: drop`).
    public var dropClientCookies: Bool
    /// Only logged-in sessions may pass (`auth: wechat`); others get `401 login_required`.
    public var requiresLogin: Bool
    public var connectTimeout: TimeAmount
    public var responseTimeout: TimeAmount
    public var bodyIdleTimeout: TimeAmount
    public var maxBodyBytes: Int
    /// Compress responses with gzip for clients that accept it (`gzip: true`).
    public var gzip: Bool
    /// Responses with a smaller `Content-Length` are not compressed.
    public var gzipMinBytes: Int

    public init(
        name: String = "default", host: HostMatch = .any, pathPrefix: String = "/",
        stripPrefix: Bool = false, upstreams: [Upstream], mintTokens: Bool = true,
        passSetCookie: Bool = false, dropClientCookies: Bool = false, requiresLogin: Bool = false,
        connectTimeout: TimeAmount = .seconds(2), responseTimeout: TimeAmount = .seconds(30),
        bodyIdleTimeout: TimeAmount = .seconds(30), maxBodyBytes: Int = 10 << 20,
        gzip: Bool = false, gzipMinBytes: Int = 1024
    ) {
        self.name = name
        self.host = host
        self.pathPrefix = pathPrefix
        self.stripPrefix = stripPrefix
        self.upstreams = upstreams
        self.mintTokens = mintTokens
        self.passSetCookie = passSetCookie
        self.dropClientCookies = dropClientCookies
        self.requiresLogin = requiresLogin
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
        self.maxBodyBytes = maxBodyBytes
        self.gzip = gzip
        self.gzipMinBytes = gzipMinBytes
    }

    func matches(host requestHost: Substring, path: Substring) -> Bool {
        switch host {
        case .any: break
        case .exact(let h): guard requestHost.caseInsensitiveEquals(h) else { return false }
        case .wildcard(let suffix):
            guard requestHost.utf8.count > suffix.utf8.count,
                  requestHost.lowercased().hasSuffix(suffix) else { return false }
        }
        return Self.pathHasPrefix(path, pathPrefix)
    }

    /// `/api` matches `/api`, `/api/…` and `/api?…`, not `/apix`.
    static func pathHasPrefix(_ path: Substring, _ prefix: String) -> Bool {
        // Byte comparison: targets hold URL characters only (`WireSafety`), so it agrees with
        // String's, without its Unicode work.
        guard path.utf8.starts(with: prefix.utf8) else { return false }
        if prefix.utf8.last == UInt8(ascii: "/") || path.utf8.count == prefix.utf8.count { return true }
        let next = path.utf8[path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count)]
        return next == UInt8(ascii: "/") || next == UInt8(ascii: "?")
    }

    /// The request target the backend sees: prefix stripped when asked, base path prepended.
    func upstreamTarget(for uri: String, upstream: Upstream) -> String {
        var target = Substring(uri)
        if stripPrefix && pathPrefix != "/" {
            target = target.dropFirst(pathPrefix.hasSuffix("/") ? pathPrefix.utf8.count - 1 : pathPrefix.utf8.count)
            if target.isEmpty || target.first == "?" { target = "/" + target }
        }
        if upstream.basePath.isEmpty { return String(target) }
        return upstream.basePath + target
    }

    /// Instances in the order to try for a session: rendezvous (highest random weight) hashing
    /// on the token hash, so a session sticks to one instance and only the sessions of a removed
    /// instance move.
    func instanceOrder(for hash: TokenHash) -> [Int] {
        if upstreams.count == 1 { return [0] }
        var seed: UInt64 = 0
        for i in 0..<8 { seed = seed << 8 | UInt64(hash.bytes[i]) }
        let scored = upstreams.indices.map { i -> (Int, UInt64) in
            (i, Self.mix(seed ^ Self.mix(UInt64(i) &+ 0x9E37_79B9_7F4A_7C15)))
        }
        return scored.sorted { $0.1 > $1.1 }.map(\.0)
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The routes of a running gateway; first match wins.
public struct RouteTable: Sendable {
    public var routes: [RouteSpec]

    public init(routes: [RouteSpec]) { self.routes = routes }

    func route(host: Substring, path: Substring) -> RouteSpec? {
        for route in routes where route.matches(host: host, path: path) { return route }
        return nil
    }
}

extension Substring {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        for (a, b) in zip(utf8, other.utf8) where asciiLower(a) != asciiLower(b) { return false }
        return true
    }
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
}
