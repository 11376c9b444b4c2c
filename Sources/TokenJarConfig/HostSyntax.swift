/// Syntax checks for host names and IP literals, shared by listen addresses, upstream URLs and
/// route host patterns.
enum HostSyntax {
    /// A DNS name (`localhost`, `php.internal`, `api-1.example.com`), with an optional final dot.
    static func isHostname(_ text: String) -> Bool {
        var name = Substring(text)
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != "-", label.last != "-" else { return false }
            guard label.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "_" }) else {
                return false
            }
        }
        return true
    }

    /// A dotted-quad IPv4 address.
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), let value = Int(part) else {
                return false
            }
            return value <= 255 && (part.count == 1 || part.first != "0")
        }
    }

    /// An IPv6 address without brackets (`::1`, `fe80::1`, `::ffff:127.0.0.1`); zone ids are refused.
    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let pieces = text.components(separatedBy: "::")
        guard pieces.count <= 2 else { return false }
        var groups = 0
        for (pieceIndex, piece) in pieces.enumerated() where !piece.isEmpty {
            let parts = piece.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                let isLast = pieceIndex == pieces.count - 1 && index == parts.count - 1
                if isLast, isIPv4(String(part)) {
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return pieces.count == 2 ? groups <= 7 : groups == 8
    }

    /// Checks the host of an address or URL: a name, an IPv4 address, or an IPv6 address that was
    /// written in brackets (`bracketed` tells whether it was).
    static func check(host: String, bracketed: Bool) throws(ConfigValueError) {
        if bracketed {
            guard isIPv6(host) else { throw ConfigValueError("'[\(host)]' is not an IPv6 address") }
            return
        }
        if host.contains(":") {
            throw ConfigValueError("an IPv6 address must be written in brackets, as in [::1]:8080")
        }
        if host.allSatisfy({ $0.isASCIIDigit || $0 == "." }) {
            guard isIPv4(host) else { throw ConfigValueError("'\(host)' is not an IPv4 address") }
            return
        }
        guard isHostname(host) else { throw ConfigValueError("'\(host)' is not a valid host name") }
    }

    /// Splits `host:port` or `[v6]:port` (port optional when `portRequired` is false).
    static func splitHostPort(
        _ text: String,
        portRequired: Bool
    ) throws(ConfigValueError) -> (host: String, bracketed: Bool, port: Int?) {
        var host: String
        var portText: String?
        var bracketed = false
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ConfigValueError("missing ']' after an IPv6 address") }
            host = String(text[text.index(after: text.startIndex)..<close])
            bracketed = true
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw ConfigValueError("expected ':PORT' after ']'") }
                portText = String(rest.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
            if host.contains(":") {
                throw ConfigValueError("an IPv6 address must be written in brackets, as in [::1]:8080")
            }
        } else {
            host = text
        }
        host = host.lowercased()
        guard !host.isEmpty else { throw ConfigValueError("missing host") }
        try check(host: host, bracketed: bracketed)
        guard let portText else {
            if portRequired { throw ConfigValueError("missing ':PORT'") }
            return (host, bracketed, nil)
        }
        return (host, bracketed, try parsePort(portText))
    }

    static func parsePort(_ text: String) throws(ConfigValueError) -> Int {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), let port = Int(text) else {
            throw ConfigValueError("port must be a number between 1 and 65535")
        }
        guard (1...65535).contains(port) else { throw ConfigValueError("port must be between 1 and 65535") }
        return port
    }

    /// `host` as written in a URL or address: IPv6 in brackets.
    static func bracketed(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}
