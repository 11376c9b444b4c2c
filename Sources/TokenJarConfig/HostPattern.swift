/// The host a route answers for: an exact host (`api.example.com`, compared without case) or a
/// wildcard (`*.example.com`, any name ending in `.example.com` but not `example.com` itself).
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as normalised: lower case, no final dot, `*.` kept for a wildcard.
    public let pattern: String

    public var isWildcard: Bool { pattern.hasPrefix("*.") }

    /// Parses `api.example.com`, `*.example.com`, `127.0.0.1` or `[::1]`.
    public init(parsing text: String) throws(ConfigValueError) {
        var host = text.trimmingSpaces().lowercased()
        if host.hasSuffix("."), host.count > 1 { host.removeLast() }
        guard !host.isEmpty else { throw ConfigValueError("expected a host name or *.domain") }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else {
                throw ConfigValueError("a route host matches the Host header without its port")
            }
            let inner = String(host.dropFirst().dropLast())
            try HostSyntax.check(host: inner, bracketed: true)
            self.pattern = host
            return
        }
        if host.contains(":") {
            throw ConfigValueError("a route host matches the Host header without its port")
        }
        if host.hasPrefix("*.") {
            let suffix = String(host.dropFirst(2))
            guard !suffix.contains("*"), HostSyntax.isHostname(suffix) else {
                throw ConfigValueError("a wildcard must have the form *.example.com")
            }
        } else if host.contains("*") {
            throw ConfigValueError("a wildcard must have the form *.example.com")
        } else {
            try HostSyntax.check(host: host, bracketed: false)
        }
        self.pattern = host
    }

    /// Whether a request's Host header value (port allowed, any case) matches.
    public func matches(hostHeader: String) -> Bool {
        var host = Substring(hostHeader.lowercased())
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        if host.hasSuffix("."), host.count > 1 { host.removeLast() }
        if isWildcard {
            let suffix = pattern.dropFirst(1)  // ".example.com"
            return host.count > suffix.count && host.hasSuffix(suffix)
        }
        return host == pattern
    }

    public var description: String { pattern }
}
