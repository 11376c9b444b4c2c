/// Where a listener binds: `127.0.0.1:8080`, `0.0.0.0:8080`, `[::1]:8080`, `localhost:8080`.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// A host name or an IP address; IPv6 without brackets (`::1`).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; an IPv6 host is written in brackets, as in `[::1]:8080`.
    public init(parsing text: String) throws(ConfigValueError) {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasPrefix(":"), trimmed.dropFirst().allSatisfy(\.isASCIIDigit) {
            throw ConfigValueError(
                "missing host; use 0.0.0.0\(trimmed) for every IPv4 interface or [::]\(trimmed) for every interface"
            )
        }
        if trimmed.contains("://") {
            throw ConfigValueError("expected HOST:PORT such as 127.0.0.1:8080, not a URL")
        }
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isASCIIDigit) {
            throw ConfigValueError("expected HOST:PORT such as 127.0.0.1:\(trimmed), not a bare port")
        }
        let parts = try HostSyntax.splitHostPort(trimmed, portRequired: true)
        self.init(host: parts.host, port: parts.port ?? 0)
    }

    /// `127.0.0.1:8080`, `[::1]:8080`.
    public var description: String { "\(HostSyntax.bracketed(host)):\(port)" }
}
