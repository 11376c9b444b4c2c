import Foundation

/// One thing wrong with a configuration: where it is (a key path such as `routes[1].upstreams[0]`,
/// `server.listen` or an environment variable such as `TOKENJAR_STORE_URL`), the line of the file
/// when it came from a file, and what is wrong.
///
/// Messages never contain the value of a key marked secret, nor the password of a URL.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// What sort of problem this is. New kinds can be added without breaking callers.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Internal: Sendable, Hashable {
            case syntax
            case unreadable
            case unknownKey
            case wrongType
            case invalidValue
            case conflict
            case missing
        }

        private let value: Internal
        private init(_ value: Internal) { self.value = value }

        /// The YAML itself could not be parsed.
        public static var syntax: Self { .init(.syntax) }
        /// The file could not be read.
        public static var unreadable: Self { .init(.unreadable) }
        /// A key (or environment variable) that the configuration does not know.
        public static var unknownKey: Self { .init(.unknownKey) }
        /// A value of the wrong shape: a list where a scalar belongs, a number where a mapping belongs.
        public static var wrongType: Self { .init(.wrongType) }
        /// A value of the right shape that is not acceptable: a bad duration, port, URL, enum value.
        public static var invalidValue: Self { .init(.invalidValue) }
        /// Values that are fine alone but not together (duplicate route names, ...).
        public static var conflict: Self { .init(.conflict) }
        /// Something required is absent (a route without upstreams, no route at all).
        public static var missing: Self { .init(.missing) }

        public var description: String {
            switch value {
            case .syntax: "syntax"
            case .unreadable: "unreadable"
            case .unknownKey: "unknown key"
            case .wrongType: "wrong type"
            case .invalidValue: "invalid value"
            case .conflict: "conflict"
            case .missing: "missing"
            }
        }
    }

    public var kind: Kind
    /// `server.listen`, `routes[1].upstreams[0]`, `TOKENJAR_STORE_URL`; empty for a problem of the
    /// whole document (a YAML syntax error, an unreadable file).
    public var keyPath: String
    /// The 1-based line in the YAML file, when the problem is in the file.
    public var line: Int?
    public var message: String

    public init(_ kind: Kind, keyPath: String, line: Int? = nil, message: String) {
        self.kind = kind
        self.keyPath = keyPath
        self.line = line
        self.message = message
    }

    /// `routes[0].mint: expected one of auto, never, got 'sometimes' (line 12)`
    public var description: String {
        var text = keyPath.isEmpty ? message : "\(keyPath): \(message)"
        if let line { text += " (line \(line))" }
        return text
    }
}

/// Every problem found in a configuration, not just the first.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }

    public var errorDescription: String? { description }
}

/// Why one value could not be parsed (a duration, a size, an address, a URL, ...).
///
/// The message says what was expected; it does not repeat the value, so that the caller decides
/// whether the value may be shown.
public struct ConfigValueError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
