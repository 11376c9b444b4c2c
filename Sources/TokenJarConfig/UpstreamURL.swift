/// One instance of a backend: `http(s)://host[:port][/base-path]`.
///
/// Credentials, queries and fragments are refused; the base path keeps no trailing slash (`""` when
/// there is none), so that `basePath + requestPath` is the path sent upstream.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case http
        case https

        public var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public var scheme: Scheme
    /// A host name or an IP address; IPv6 without brackets.
    public var host: String
    /// The port, 80 or 443 when the URL names none.
    public var port: Int
    /// `""` or a path such as `/legacy` (never ending in `/`).
    public var basePath: String

    public init(scheme: Scheme, host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
        self.basePath = basePath
    }

    /// Parses `http://127.0.0.1:9000`, `https://php.internal/app`, `http://[::1]:8080`.
    public init(parsing text: String) throws(ConfigValueError) {
        let trimmed = text.trimmingSpaces()
        guard let separator = trimmed.range(of: "://") else {
            throw ConfigValueError("expected an http or https URL such as http://127.0.0.1:9000")
        }
        guard let scheme = Scheme(rawValue: trimmed[..<separator.lowerBound].lowercased()) else {
            throw ConfigValueError("an upstream URL must use http or https")
        }
        let rest = trimmed[separator.upperBound...]
        if rest.contains(where: { $0 == "?" || $0 == "#" }) {
            throw ConfigValueError("an upstream URL cannot have a query or a fragment")
        }
        if rest.contains(where: { $0.isWhitespace }) {
            throw ConfigValueError("an upstream URL cannot contain spaces")
        }
        if rest.contains(",") {
            throw ConfigValueError("an upstream URL cannot contain ',' (commas separate URLs in a list)")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        if authority.contains("@") {
            throw ConfigValueError("an upstream URL cannot carry credentials")
        }
        guard !authority.isEmpty else { throw ConfigValueError("an upstream URL needs a host") }
        let parts = try HostSyntax.splitHostPort(authority, portRequired: false)
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        if path.contains("//") { throw ConfigValueError("the base path contains an empty segment") }
        if !path.utf8.allSatisfy(Self.isPathByte) {
            throw ConfigValueError("the base path may hold only URL characters (percent-encode the rest)")
        }
        self.init(scheme: scheme, host: parts.host, port: parts.port, basePath: path)
    }

    /// RFC 3986 unreserved and sub-delims, `:`, `@`, `/` and `%`: what a path sends as it is.
    private static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "-._~!$&'()*+;=:@/%".utf8.contains(byte)
        }
    }

    /// `host` or `host:port` as sent in a Host header (port omitted when it is the scheme's default).
    public var authority: String {
        let host = HostSyntax.bracketed(host)
        return port == scheme.defaultPort ? host : "\(host):\(port)"
    }

    /// `http://127.0.0.1:9000/app`
    public var description: String { "\(scheme.rawValue)://\(authority)\(basePath)" }
}
