/// The type of a configuration key: how its text is parsed, checked and shown.
///
/// The scalar types (durations, sizes, addresses, URLs, enumerations, ...) are built from a
/// function that parses one string, so the same parsing serves the YAML file, environment
/// variables and command-line overrides.
public struct ConfigValueType<Value: Sendable>: Sendable {
    /// Short name for the documentation: `duration`, `size`, `one of auto, never`.
    public let name: String
    /// The name with an article, for messages: `a duration`, `an address`.
    let noun: String
    let parse: @Sendable (RawValue, ValueDisplay) throws(ValueProblems) -> Value
    let render: @Sendable (Value) -> String

    init(
        name: String,
        noun: String,
        parse: @escaping @Sendable (RawValue, ValueDisplay) throws(ValueProblems) -> Value,
        render: @escaping @Sendable (Value) -> String
    ) {
        self.name = name
        self.noun = noun
        self.parse = parse
        self.render = render
    }

    /// A type parsed from a single string.
    static func scalar(
        _ name: String,
        noun: String,
        parse: @escaping @Sendable (String) throws(ConfigValueError) -> Value,
        render: @escaping @Sendable (Value) -> String
    ) -> Self {
        Self(name: name, noun: noun, parse: { raw, display throws(ValueProblems) in
            guard case .scalar(let text) = raw.shape else {
                throw ValueProblems(.wrongType, line: raw.line, message: "expected \(noun), got \(raw.shapeNoun)")
            }
            do throws(ConfigValueError) {
                return try parse(text)
            } catch {
                throw ValueProblems(.invalidValue, line: raw.line, message: error.message + display.got(text))
            }
        }, render: render)
    }

    /// Accepts the value only when `check` returns nil, else the message it returns.
    func checked(_ check: @escaping @Sendable (Value) -> String?) -> Self {
        let parse = self.parse
        return Self(name: name, noun: noun, parse: { raw, display throws(ValueProblems) in
            let value = try parse(raw, display)
            if let message = check(value) {
                let shown = if case .scalar(let text) = raw.shape { display.got(text) } else { "" }
                throw ValueProblems(.invalidValue, line: raw.line, message: message + shown)
            }
            return value
        }, render: render)
    }
}

extension ConfigValueType where Value == String {
    /// Any string.
    static var string: Self { .scalar("string", noun: "a string", parse: { $0 }, render: { $0 }) }

    /// A string checked (and possibly normalised) by `parse`.
    static func string(_ name: String, parse: @escaping @Sendable (String) throws(ConfigValueError) -> String) -> Self {
        .scalar(name, noun: "a \(name)", parse: parse, render: { $0 })
    }
}

extension ConfigValueType where Value == Bool {
    static var bool: Self {
        .scalar("boolean", noun: "true or false", parse: { text throws(ConfigValueError) in
            switch text.trimmingSpaces().lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw ConfigValueError("expected true or false")
            }
        }, render: { $0 ? "true" : "false" })
    }
}

extension ConfigValueType where Value == Int {
    /// A whole number within `range`.
    static func integer(_ range: ClosedRange<Int>) -> Self {
        let limits = range.upperBound == .max
            ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
        return .scalar("integer (\(limits))", noun: "a whole number", parse: { text throws(ConfigValueError) in
            let digits = text.trimmingSpaces().replacingOccurrences(of: "_", with: "")
            guard let value = Int(digits) else { throw ConfigValueError("expected a whole number") }
            guard range.contains(value) else { throw ConfigValueError("must be \(limits)") }
            return value
        }, render: { "\($0)" })
    }

    /// A size in bytes (`512`, `64KiB`, `10MiB`), at least `minimum`.
    static func size(minimum: Int = 1) -> Self {
        .scalar("size", noun: "a size", parse: { text throws(ConfigValueError) in
            let bytes = try ConfigFormats.parseSize(text)
            guard bytes >= minimum else { throw ConfigValueError("must be at least \(ConfigFormats.formatSize(minimum))") }
            return bytes
        }, render: ConfigFormats.formatSize)
    }
}

extension ConfigValueType where Value == Int? {
    /// A size in bytes, or `""` for none (use the fallback the key's documentation names).
    static var optionalSize: Self {
        .scalar("size or \"\"", noun: "a size", parse: { text throws(ConfigValueError) in
            if text.trimmingSpaces().isEmpty { return nil }
            let bytes = try ConfigFormats.parseSize(text)
            guard bytes >= 1 else { throw ConfigValueError("must be at least 1") }
            return bytes
        }, render: { $0.map(ConfigFormats.formatSize) ?? "" })
    }
}

extension ConfigValueType where Value == Duration {
    /// A duration; zero only when `allowZero`.
    static func duration(allowZero: Bool = false) -> Self {
        .scalar("duration", noun: "a duration", parse: { text throws(ConfigValueError) in
            let duration = try ConfigFormats.parseDuration(text)
            if !allowZero, duration == .zero { throw ConfigValueError("must be longer than 0") }
            return duration
        }, render: ConfigFormats.formatDuration)
    }
}

extension ConfigValueType where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of the enumeration's raw values (compared without case).
    static var choice: Self {
        let names = Value.allCases.map(\.rawValue)
        let list = names.joined(separator: ", ")
        return .scalar("one of \(names.map { "`\($0)`" }.joined(separator: ", "))", noun: "one of \(list)", parse: {
            text throws(ConfigValueError) in
            let lowered = text.trimmingSpaces().lowercased()
            guard let value = Value.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else {
                throw ConfigValueError("expected one of \(list)")
            }
            return value
        }, render: \.rawValue)
    }
}

extension ConfigValueType where Value == ListenAddress {
    static var address: Self {
        .scalar("address (`HOST:PORT`)", noun: "an address", parse: ListenAddress.init(parsing:), render: \.description)
    }
}

extension ConfigValueType where Value == ListenAddress? {
    /// An address, or `""` for none (a listener that is off).
    static var optionalAddress: Self {
        .scalar("address or \"\"", noun: "an address", parse: { text throws(ConfigValueError) in
            text.trimmingSpaces().isEmpty ? nil : try ListenAddress(parsing: text)
        }, render: { $0?.description ?? "" })
    }
}

extension ConfigValueType where Value == UpstreamURL {
    /// An `http(s)://host[:port][/base-path]` URL.
    static var url: Self {
        .scalar("URL", noun: "an http(s) URL", parse: UpstreamURL.init(parsing:), render: \.description)
    }
}

extension ConfigValueType where Value == StoreURL {
    static var storeURL: Self {
        .scalar("store URL", noun: "a store URL", parse: StoreURL.init(parsing:), render: \.description)
    }
}

extension ConfigValueType where Value == HostPattern? {
    /// A host pattern, or `""` for any host.
    static var hostPattern: Self {
        .scalar("host pattern or \"\"", noun: "a host name", parse: { text throws(ConfigValueError) in
            let trimmed = text.trimmingSpaces()
            if trimmed.isEmpty || trimmed == "*" { return nil }
            return try HostPattern(parsing: trimmed)
        }, render: { $0?.pattern ?? "" })
    }
}

extension ConfigValueType where Value == [UpstreamURL] {
    /// A YAML list of upstream URLs, or (from the environment) a comma-separated string of them.
    static var upstreams: Self {
        let element = ConfigValueType<UpstreamURL>.url
        return Self(name: "list of URLs", noun: "a list of URLs", parse: { raw, display throws(ValueProblems) in
            let items: [RawValue]
            switch raw.shape {
            case .list(let list): items = list
            case .scalar(let text):
                items = text.split(separator: ",").map { RawValue(shape: .scalar($0.trimmingSpaces()), line: raw.line) }
            case .null: items = []
            case .mapping:
                throw ValueProblems(.wrongType, line: raw.line, message: "expected a list of URLs, got a mapping")
            }
            var urls: [UpstreamURL] = []
            var problems: [ValueProblem] = []
            for (index, item) in items.enumerated() {
                do throws(ValueProblems) {
                    urls.append(try element.parse(item, display))
                } catch {
                    problems += error.items.map {
                        ValueProblem(kind: $0.kind, suffix: "[\(index)]", line: $0.line, message: $0.message)
                    }
                }
            }
            guard problems.isEmpty else { throw ValueProblems(problems) }
            return urls
        }, render: { $0.map(\.description).joined(separator: ", ") })
    }
}
