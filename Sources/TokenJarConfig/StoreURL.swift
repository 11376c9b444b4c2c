/// Where sessions and cookie jars are kept: `memory`, `sqlite:PATH` or
/// `postgres://user[:password]@host[:port]/database[?key=value&...]`.
///
/// The description never shows a password.
public enum StoreURL: Sendable, Hashable, CustomStringConvertible {
    /// Lost on restart; for tests and trials.
    case memory
    /// A SQLite file, relative paths resolved against the working directory.
    case sqlite(path: String)
    /// A PostgreSQL database shared by several gateways.
    case postgres(PostgresURL)

    /// Parses `memory`, `sqlite:tokenjar.db`, `postgres://tokenjar@db:5432/tokenjar`.
    public init(parsing text: String) throws(ConfigValueError) {
        let trimmed = text.trimmingSpaces()
        let lowered = trimmed.lowercased()
        if lowered == "memory" || lowered == "memory:" {
            self = .memory
        } else if lowered.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite:///abs/path and sqlite://rel.db
            guard !path.isEmpty else { throw ConfigValueError("sqlite: needs a file path, as in sqlite:tokenjar.db") }
            self = .sqlite(path: path)
        } else if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(try PostgresURL(parsing: trimmed))
        } else {
            throw ConfigValueError("expected memory, sqlite:PATH or postgres://user@host:port/database")
        }
    }

    /// `memory`, `sqlite` or `postgres`.
    public var kind: String {
        switch self {
        case .memory: "memory"
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// Whether one gateway process owns the store (so jars may be cached in memory).
    public var isExclusive: Bool {
        if case .postgres = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .memory: "memory"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): url.description
        }
    }
}

/// `postgres://user[:password]@host[:port]/database[?key=value&...]`
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    /// Kept for connecting; never shown by `description`.
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// Query parameters such as `sslmode=require`, in the order written.
    public var parameters: [Parameter]

    public struct Parameter: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public init(parsing text: String) throws(ConfigValueError) {
        guard let separator = text.range(of: "://") else {
            throw ConfigValueError("expected postgres://user@host:port/database")
        }
        var rest = Substring(text[separator.upperBound...])
        var parameters: [Parameter] = []
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                parameters.append(Parameter(name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : ""))
            }
            rest = rest[..<question]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw ConfigValueError("a postgres URL needs a user, as in postgres://tokenjar@db:5432/tokenjar")
        }
        let userInfo = rest[..<at]
        let userParts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let user = String(userParts[0])
        guard !user.isEmpty else { throw ConfigValueError("a postgres URL needs a user") }
        let afterAt = rest[rest.index(after: at)...]
        let slash = afterAt.firstIndex(of: "/") ?? afterAt.endIndex
        let authority = String(afterAt[..<slash])
        guard !authority.isEmpty else { throw ConfigValueError("a postgres URL needs a host") }
        let hostPort = try HostSyntax.splitHostPort(authority, portRequired: false)
        let database = String(afterAt[slash...].drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw ConfigValueError("a postgres URL needs a database name, as in postgres://tokenjar@db:5432/tokenjar")
        }
        self.user = user
        self.password = userParts.count > 1 ? String(userParts[1]) : nil
        self.host = hostPort.host
        self.port = hostPort.port ?? 5432
        self.database = database
        self.parameters = parameters
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let secret = password == nil ? "" : ":***"
        let query = parameters.isEmpty ? "" : "?" + parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        return "postgres://\(user)\(secret)@\(HostSyntax.bracketed(host)):\(port)/\(database)\(query)"
    }
}
