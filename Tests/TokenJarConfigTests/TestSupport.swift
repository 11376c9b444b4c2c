import Foundation
import Testing

@testable import TokenJarConfig

/// The problems of loading `yaml` with `environment`; empty when it loads.
func problems(
    yaml: String,
    environment: [String: String] = [:],
    overrides: ConfigOverrides = ConfigOverrides()
) -> [ConfigProblem] {
    do throws(ConfigErrors) {
        _ = try ConfigLoader.load(yaml: yaml, environment: environment, overrides: overrides)
        return []
    } catch {
        return error.problems
    }
}

/// The descriptions of those problems (`key.path: message (line N)`).
func descriptions(yaml: String, environment: [String: String] = [:]) -> [String] {
    problems(yaml: yaml, environment: environment).map(\.description)
}

/// Loads `yaml`, recording the problems as a test failure.
func load(
    yaml: String,
    environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) -> GatewayConfig? {
    do throws(ConfigErrors) {
        return try ConfigLoader.load(yaml: yaml, environment: environment)
    } catch {
        Issue.record("unexpected problems:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

enum Fixtures {
    /// The path of a file under `Fixtures/`, such as `examples/php-backend.yaml`.
    static func path(_ name: String) throws -> String {
        let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures").appendingPathComponent(name)
        return url.path
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    static let examples = ["tokenjar.yaml", "php-backend.yaml", "tomcat-backend.yaml"]
}

/// The repository root, found from this file's path (`Tests/TokenJarConfigTests/...`).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()
