import Foundation

/// Loads the configuration: defaults, then the YAML file, then environment variables, then
/// command-line overrides, each layer winning over the one before.
///
/// Every problem is reported at once, each with its key path and, for the file, its line.
public enum ConfigLoader {
    /// Loads from YAML text.
    public static func load(
        yaml: String,
        environment: [String: String],
        overrides: ConfigOverrides = ConfigOverrides()
    ) throws(ConfigErrors) -> GatewayConfig {
        var builder = ConfigBuilder()
        builder.decode(yaml: yaml)
        return try finish(&builder, environment: environment, overrides: overrides)
    }

    /// Loads from a YAML file.
    public static func load(
        file: String,
        environment: [String: String],
        overrides: ConfigOverrides = ConfigOverrides()
    ) throws(ConfigErrors) -> GatewayConfig {
        var builder = ConfigBuilder()
        builder.decode(file: file)
        return try finish(&builder, environment: environment, overrides: overrides)
    }

    /// Defaults with environment and command-line overrides, without a file.
    public static func defaults(
        environment: [String: String],
        overrides: ConfigOverrides = ConfigOverrides()
    ) throws(ConfigErrors) -> GatewayConfig {
        var builder = ConfigBuilder()
        return try finish(&builder, environment: environment, overrides: overrides)
    }

    private static func finish(
        _ builder: inout ConfigBuilder,
        environment: [String: String],
        overrides: ConfigOverrides
    ) throws(ConfigErrors) -> GatewayConfig {
        builder.applyEnvironment(environment)
        builder.applyOverrides(overrides)
        let problems = builder.finish()
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        return builder.config
    }
}

extension ConfigBuilder {
    /// Reads and decodes a file; a file that cannot be read is one problem.
    mutating func decode(file path: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            report(.unreadable, keyPath: "", line: nil, message: "no such file")
            return
        }
        guard !isDirectory.boolValue else {
            report(.unreadable, keyPath: "", line: nil, message: "is a directory, not a configuration file")
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            report(.unreadable, keyPath: "", line: nil, message: "cannot be read (permission denied?)")
            return
        }
        guard let text = String(data: data, encoding: .utf8) else {
            report(.syntax, keyPath: "", line: nil, message: "the file is not UTF-8 text")
            return
        }
        decode(yaml: text)
    }
}
