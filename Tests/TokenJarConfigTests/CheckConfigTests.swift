import Foundation
import Testing

@testable import TokenJarConfig

@Suite struct CheckConfigTests {
    @Test func successIsAOneLineSummaryWithoutSecrets() throws {
        let path = try Fixtures.path("full.yaml")
        let result = ConfigCheck.run(path: path, environment: [:])
        #expect(result.ok)
        #expect(result.output == "\(path): OK: 2 routes, 3 upstreams "
            + "(http://10.0.0.1:8080/base, https://backend.example.com, http://127.0.0.1:9000), "
            + "store postgres, listening on [::1]:9443")
        #expect(!result.output.contains("s3cret"))
        #expect(!result.output.contains("\n"))
    }

    @Test func eachProblemIsALinePrefixedWithTheFile() throws {
        let path = try Fixtures.path("broken.yaml")
        let result = ConfigCheck.run(path: path, environment: [:])
        #expect(!result.ok)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 10)
        #expect(lines.allSatisfy { $0.hasPrefix("\(path): ") })
        #expect(lines[0] == "\(path): server.lisen: unknown key 'lisen' (did you mean 'listen'?) (line 2)")
        #expect(lines.last == "\(path): 9 problems found")
    }

    @Test func environmentIsCheckedToo() throws {
        let path = try Fixtures.path("examples/php-backend.yaml")
        let result = ConfigCheck.run(path: path, environment: ["TOKENJAR_SERVER_LISTEN": "everywhere"])
        #expect(!result.ok)
        #expect(result.output.hasPrefix("\(path): TOKENJAR_SERVER_LISTEN: missing ':PORT', got 'everywhere'"))
    }

    @Test func aFileWithoutRoutesCannotServe() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenjar-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("noroutes.yaml")
        try "server:\n  listen: \"127.0.0.1:8080\"\n".write(to: file, atomically: true, encoding: .utf8)
        let result = ConfigCheck.run(path: file.path, environment: [:])
        #expect(!result.ok)
        #expect(result.output.contains("\(file.path): routes: at least one route with an upstream is needed to serve"))
    }

    @Test func missingFileIsOneProblem() {
        let result = ConfigCheck.run(path: "/nonexistent/tokenjar.yaml", environment: [:])
        #expect(!result.ok)
        #expect(result.output == "/nonexistent/tokenjar.yaml: no such file\n/nonexistent/tokenjar.yaml: 1 problem found")
        #expect(throws: ConfigErrors.self) { try ConfigLoader.load(file: "/nonexistent/tokenjar.yaml", environment: [:]) }
    }
}
