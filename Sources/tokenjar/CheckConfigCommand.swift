import ArgumentParser
import Foundation
import TokenJarConfig

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file without starting; exits non-zero and names the key path of each problem.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        let result = ConfigCheck.run(path: file, environment: ProcessInfo.processInfo.environment)
        print(result.output)
        if !result.ok { throw ExitCode(1) }
    }
}
