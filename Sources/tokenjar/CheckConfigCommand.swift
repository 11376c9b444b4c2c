import ArgumentParser
import Foundation
import TokenJarConfig
import TokenJarGateway

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file without starting; exits non-zero and names the key path of each problem.",
        discussion: "Also reads the TLS certificate and key files the file names, as serve would.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let result = ConfigCheck.run(path: file, environment: environment)
        guard result.ok else {
            print(result.output)
            throw ExitCode(1)
        }
        // The file is valid: read the certificate and key files it names.
        let problems = TLSFileCheck.problems(try ConfigLoader.load(file: file, environment: environment))
        guard problems.isEmpty else {
            var lines = problems.map { "\(file): \($0)" }
            lines.append("\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s") found")
            print(lines.joined(separator: "\n"))
            throw ExitCode(1)
        }
        print(result.output)
    }
}
