/// Where a value came from, so that a problem found later can point at it.
enum ValueOrigin: Sendable {
    case file(line: Int?)
    case environment(String)
    case commandLine
}

/// Builds a configuration layer by layer (defaults, file, environment, command line), collecting
/// every problem on the way instead of stopping at the first.
struct ConfigBuilder {
    var config: GatewayConfig
    var problems: [ConfigProblem] = []
    /// Key path (`server.listen`, `routes[1]`, `routes[1].upstreams`) → where its value came from.
    var origins: [String: ValueOrigin] = [:]
    /// Key paths whose value was refused; checks between keys stay silent about them.
    var failedPaths: Set<String> = []

    init(config: GatewayConfig = GatewayConfig()) {
        self.config = config
    }

    mutating func report(_ kind: ConfigProblem.Kind, keyPath: String, line: Int?, message: String) {
        problems.append(ConfigProblem(kind, keyPath: keyPath, line: line, message: message))
    }

    /// Records the problems of a refused value. `reportAs` names it in the messages (a key path or
    /// an environment variable), `note` ends each message (" (command line)").
    mutating func recordFailure(_ failure: ValueProblems, keyPath: String, reportAs: String, note: String = "") {
        failedPaths.insert(keyPath)
        for item in failure.items {
            report(item.kind, keyPath: reportAs + item.suffix, line: item.line, message: item.message + note)
        }
    }

    /// Sets one key of a section from a raw value; a null leaves the value as it was.
    mutating func set(
        _ key: ConfigKey<GatewayConfig>,
        raw: RawValue,
        keyPath: String,
        reportAs: String,
        note: String = "",
        origin: ValueOrigin
    ) {
        guard !raw.isNull else { return }
        do throws(ValueProblems) {
            try key.apply(&config, raw)
            origins[keyPath] = origin
        } catch {
            recordFailure(error, keyPath: keyPath, reportAs: reportAs, note: note)
        }
    }

    /// Replaces the default route's upstreams (or adds a default route), as
    /// `TOKENJAR_ROUTES_UPSTREAMS` and the command line do.
    mutating func setDefaultRouteUpstreams(raw: RawValue, reportAs: String, note: String = "", origin: ValueOrigin) {
        do throws(ValueProblems) {
            let upstreams = try ConfigValueType<[UpstreamURL]>.upstreams.parse(raw, ValueDisplay(isSecret: false))
            let index = config.setDefaultRouteUpstreams(upstreams)
            origins["routes[\(index)].upstreams"] = origin
            if origins["routes[\(index)]"] == nil { origins["routes[\(index)]"] = origin }
        } catch {
            let keyPath = config.defaultRouteIndex.map { "routes[\($0)].upstreams" } ?? "routes.upstreams"
            recordFailure(error, keyPath: keyPath, reportAs: reportAs, note: note)
        }
    }

    /// The problems found so far plus the problems between keys, each pointed at the origin of the
    /// value concerned (its line, its environment variable, or the command line).
    mutating func finish() -> [ConfigProblem] {
        for problem in config.crossFieldProblems() where !isUnderFailedPath(problem.keyPath) {
            problems.append(annotated(problem))
        }
        return problems
    }

    func isUnderFailedPath(_ keyPath: String) -> Bool {
        ancestors(of: keyPath).contains { failedPaths.contains($0) }
    }

    func annotated(_ problem: ConfigProblem) -> ConfigProblem {
        var problem = problem
        guard let origin = ancestors(of: problem.keyPath).lazy.compactMap({ origins[$0] }).first else {
            return problem
        }
        switch origin {
        case .file(let line): problem.line = problem.line ?? line
        case .environment(let name): problem.message += " (set by \(name))"
        case .commandLine: problem.message += " (set on the command line)"
        }
        return problem
    }

    /// `routes[0].upstreams[1]`, `routes[0].upstreams`, `routes[0]`, `routes`.
    func ancestors(of keyPath: String) -> [String] {
        var paths = [keyPath]
        var current = Substring(keyPath)
        while let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) {
            current = current[..<cut]
            paths.append(String(current))
        }
        return paths
    }
}
