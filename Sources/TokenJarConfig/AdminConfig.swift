/// The admin listener: probes, Prometheus metrics and the sessions API, on a port of its own.
public struct AdminConfig: Sendable, Equatable {
    /// Where the admin listener binds; nil (`""`) turns it off.
    public var listen: ListenAddress?
    /// The bearer token the sessions API asks for; `""` leaves the sessions API closed. Best set
    /// through `TOKENJAR_ADMIN_TOKEN`. Never shown in a message, a summary or the documentation.
    public var token: String

    public init(listen: ListenAddress? = nil, token: String = "") {
        self.listen = listen
        self.token = token
    }

    /// Whether the admin listener runs.
    public var isEnabled: Bool { listen != nil }

    /// Shortest admin token accepted.
    public static let minimumTokenLength = 16
}

extension AdminConfig {
    static let configKeys: [ConfigKey<AdminConfig>] = [
        .key("listen", .optionalAddress, \.listen,
             doc: "Address of the admin listener (`/healthz`, `/readyz`, `/metrics`, `/sessions`); `\"\"` turns it off. "
                + "Must differ from `server.listen`; keep it on loopback or a private network."),
        .key("token", .adminToken, \.token, secret: true,
             doc: "Bearer token of the sessions API, at least 16 characters; best set as `TOKENJAR_ADMIN_TOKEN`. "
                + "`\"\"` keeps the sessions API closed (every call answers 401). Never logged or shown."),
    ]

    /// Rules with the public listener.
    func problems(server: ServerConfig) -> [ConfigProblem] {
        guard let listen, listen.port != 0, listen.port == server.listen.port else { return [] }
        let sameHost = listen.host == server.listen.host
            || ["0.0.0.0", "::"].contains(listen.host) || ["0.0.0.0", "::"].contains(server.listen.host)
        guard sameHost else { return [] }
        return [ConfigProblem(
            .conflict, keyPath: "admin.listen",
            message: "must not share the public listener's port (server.listen \(server.listen))")]
    }
}

extension ConfigValueType where Value == String {
    /// `""`, or at least 16 printable ASCII characters without spaces.
    static var adminToken: Self {
        .string("string") { text throws(ConfigValueError) in
            let value = text.trimmingSpaces()
            if value.isEmpty { return value }
            guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw ConfigValueError("an admin token is made of printable ASCII characters without spaces")
            }
            guard value.utf8.count >= AdminConfig.minimumTokenLength else {
                throw ConfigValueError("an admin token has at least \(AdminConfig.minimumTokenLength) characters")
            }
            return value
        }
    }
}
