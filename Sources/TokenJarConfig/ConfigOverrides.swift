/// Values given on the command line; they win over the file and the environment.
///
/// Problems are named by key path (`server.listen`) and say they came from the command line.
public struct ConfigOverrides: Sendable, Equatable {
    /// `server.listen`, as `HOST:PORT`.
    public var listen: String?
    /// Replaces the default route's upstreams (or adds a catch-all route named `default`).
    public var upstreams: [String]?
    /// `store.url`.
    public var storeURL: String?
    /// `server.token_header`.
    public var tokenHeader: String?
    /// Any other key by its path: `["server.max_connections": "500"]`; `routes.upstreams` takes a
    /// comma-separated list. The named properties above win over these.
    public var settings: [String: String]

    public init(
        listen: String? = nil,
        upstreams: [String]? = nil,
        storeURL: String? = nil,
        tokenHeader: String? = nil,
        settings: [String: String] = [:]
    ) {
        self.listen = listen
        self.upstreams = upstreams
        self.storeURL = storeURL
        self.tokenHeader = tokenHeader
        self.settings = settings
    }

    public var isEmpty: Bool { self == ConfigOverrides() }

    /// Every override as (key path, raw value), in the order they are applied.
    var orderedSettings: [(keyPath: String, value: RawValue)] {
        var list = settings.sorted { $0.key < $1.key }.map { (keyPath: $0.key, value: RawValue(text: $0.value)) }
        if let listen { list.append(("server.listen", RawValue(text: listen))) }
        if let storeURL { list.append(("store.url", RawValue(text: storeURL))) }
        if let tokenHeader { list.append(("server.token_header", RawValue(text: tokenHeader))) }
        if let upstreams {
            list.append(("routes.upstreams", RawValue(shape: .list(upstreams.map(RawValue.init(text:))), line: nil)))
        }
        return list
    }
}

extension ConfigBuilder {
    static let commandLineNote = " (command line)"

    mutating func applyOverrides(_ overrides: ConfigOverrides) {
        for (keyPath, value) in overrides.orderedSettings {
            if keyPath == "routes.upstreams" {
                setDefaultRouteUpstreams(raw: value, reportAs: keyPath, note: Self.commandLineNote, origin: .commandLine)
                continue
            }
            guard let (_, key) = ConfigRegistry.key(at: keyPath) else {
                let hint = Suggestions.hint(for: keyPath, among: ConfigRegistry.allKeyPaths + ["routes.upstreams"])
                report(.unknownKey, keyPath: keyPath, line: nil,
                       message: "unknown key '\(keyPath)'\(hint)\(Self.commandLineNote)")
                continue
            }
            set(key, raw: value, keyPath: keyPath, reportAs: keyPath, note: Self.commandLineNote, origin: .commandLine)
        }
    }
}

extension GatewayConfig {
    /// Applies command-line values over this configuration. Nothing changes when any of them is
    /// refused; the error lists every problem.
    public mutating func apply(overrides: ConfigOverrides) throws(ConfigErrors) {
        let before = Set(crossFieldProblems())
        var builder = ConfigBuilder(config: self)
        builder.applyOverrides(overrides)
        let problems = builder.finish().filter { !before.contains($0) }
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        self = builder.config
    }

    /// Sets `server.listen` from `HOST:PORT`.
    public mutating func setListen(_ address: String) throws(ConfigErrors) {
        try apply(overrides: ConfigOverrides(listen: address))
    }

    /// Replaces the default route's upstreams (or adds a catch-all route named `default`).
    public mutating func setUpstreams(_ urls: [String]) throws(ConfigErrors) {
        try apply(overrides: ConfigOverrides(upstreams: urls))
    }

    /// Sets `store.url`: `memory`, `sqlite:PATH` or `postgres://...`.
    public mutating func setStoreURL(_ url: String) throws(ConfigErrors) {
        try apply(overrides: ConfigOverrides(storeURL: url))
    }

    /// Sets `server.token_header`.
    public mutating func setTokenHeader(_ name: String) throws(ConfigErrors) {
        try apply(overrides: ConfigOverrides(tokenHeader: name))
    }
}
