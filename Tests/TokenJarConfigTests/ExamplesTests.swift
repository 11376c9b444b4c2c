import Foundation
import Testing

@testable import TokenJarConfig

@Suite struct ExamplesTests {
    @Test(arguments: Fixtures.examples)
    func exampleLoadsWithoutProblems(name: String) throws {
        let path = try Fixtures.path("examples/\(name)")
        let config = try ConfigLoader.load(file: path, environment: [:])
        try config.validateForServing()
        let check = ConfigCheck.run(path: path, environment: [:])
        #expect(check.ok, "\(check.output)")
    }

    /// Every example in the repository, including ones added later, loads and can serve.
    @Test(.enabled(if: Self.examplesDirectoryExists))
    func everyRepositoryExampleLoads() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.examplesDirectory.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        #expect(Set(Fixtures.examples).isSubset(of: names))
        for name in names.sorted() {
            let path = Self.examplesDirectory.appendingPathComponent(name).path
            let check = ConfigCheck.run(path: path, environment: [:])
            #expect(check.ok, "examples/\(name):\n\(check.output)")
        }
    }

    static let examplesDirectory = repositoryRoot.appendingPathComponent("examples")
    static let examplesDirectoryExists = FileManager.default.fileExists(atPath: examplesDirectory.path)

    /// The fixtures are copies of `examples/`; they must not drift apart.
    @Test(.enabled(if: Self.examplesDirectoryExists), arguments: Fixtures.examples)
    func fixtureIsACopyOfTheExample(name: String) throws {
        let original = Self.examplesDirectory.appendingPathComponent(name)
        let fixture = try Fixtures.text("examples/\(name)")
        #expect(
            try String(contentsOf: original, encoding: .utf8) == fixture,
            "Tests/TokenJarConfigTests/Fixtures/examples/\(name) differs from examples/\(name); copy it again with: cp examples/*.yaml Tests/TokenJarConfigTests/Fixtures/examples/"
        )
    }

    /// `examples/tokenjar.yaml` is the commented full example: it sets every key, at its default.
    @Test func fullExampleSetsEveryKeyToItsDefault() throws {
        let text = try Fixtures.text("examples/tokenjar.yaml")
        for section in ConfigRegistry.sections {
            #expect(text.contains("\n\(section.name):\n"), "section \(section.name) missing")
            for key in section.keys {
                #expect(text.contains("\n  \(key.name):"), "\(section.keyPath(of: key)) missing")
            }
        }
        for key in ConfigRegistry.routeKeys {
            #expect(
                text.contains("\n    \(key.name):") || text.contains("\n  - \(key.name):"), "routes[].\(key.name) missing")
        }
        var expected = GatewayConfig()
        expected.routes = [RouteConfig(upstreams: [UpstreamURL(scheme: .http, host: "127.0.0.1", port: 9000)])]
        #expect(try ConfigLoader.load(yaml: text, environment: [:]) == expected)
    }
}
