/// `tokenjar check-config FILE`: loads a file as the gateway would (with the environment), and
/// says what is wrong or sums up what it would serve.
public enum ConfigCheck {
    /// `ok` is false when there is any problem. `output` has one problem per line, each prefixed
    /// with the file name, or a one-line summary (routes, upstreams, store kind; never a secret).
    public static func run(path: String, environment: [String: String]) -> (ok: Bool, output: String) {
        var builder = ConfigBuilder()
        builder.decode(file: path)
        builder.applyEnvironment(environment)
        var problems = builder.finish()
        let unparsed = problems.contains { $0.kind == .syntax || $0.kind == .unreadable }
        if !unparsed, !builder.failedPaths.contains(ConfigRegistry.routesName) {
            problems += builder.config.servingProblems().map(builder.annotated)
        }
        guard problems.isEmpty else {
            var lines = problems.map { "\(path): \($0)" }
            lines.append("\(path): \(problems.count) problem\(problems.count == 1 ? "" : "s") found")
            return (false, lines.joined(separator: "\n"))
        }
        return (true, "\(path): OK: \(summary(of: builder.config))")
    }

    /// `2 routes, 3 upstreams (http://127.0.0.1:9000, ...), store sqlite, listening on 127.0.0.1:8080`
    static func summary(of config: GatewayConfig) -> String {
        let upstreams = config.allUpstreams
        let upstreamList = upstreams.map(\.description).joined(separator: ", ")
        let routes = config.routes.count
        return [
            "\(routes) route\(routes == 1 ? "" : "s")",
            "\(upstreams.count) upstream\(upstreams.count == 1 ? "" : "s") (\(upstreamList))",
            "store \(config.store.url.kind)",
            "listening on \(config.server.listen)",
        ].joined(separator: ", ")
    }
}
