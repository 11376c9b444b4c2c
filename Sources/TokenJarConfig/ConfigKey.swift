/// One configuration key: its name within its section, its type, its documentation, and where its
/// value lives in the typed configuration.
///
/// The YAML decoder, environment overrides, command-line overrides, re-validation and the
/// generated documentation all work from these entries, so adding a key is adding a property with
/// its default and one entry to its section's `configKeys` table.
public struct ConfigKey<Root>: Sendable {
    /// The snake_case name within its section: `listen`, `max_body_bytes`.
    public let name: String
    /// The type as the documentation names it: `duration`, `size`, `one of auto, never`.
    public let typeName: String
    /// What the key means, one or two sentences of Markdown.
    public let doc: String
    /// A secret's value never appears in a message, a summary or the documentation.
    public let isSecret: Bool
    /// What the documentation shows as the default, when the rendered default value would mislead
    /// (a required key, a default that depends on the position).
    public let defaultDoc: String?

    let apply: @Sendable (inout Root, RawValue) throws(ValueProblems) -> Void
    let render: @Sendable (Root) -> String

    /// A key stored at `keyPath`, parsed and shown by `type`.
    public static func key<Value>(
        _ name: String,
        _ type: ConfigValueType<Value>,
        _ keyPath: WritableKeyPath<Root, Value> & Sendable,
        secret: Bool = false,
        defaultDoc: String? = nil,
        doc: String
    ) -> ConfigKey {
        let display = ValueDisplay(isSecret: secret)
        return ConfigKey(
            name: name,
            typeName: type.name,
            doc: doc,
            isSecret: secret,
            defaultDoc: defaultDoc,
            apply: { root, raw throws(ValueProblems) in
                root[keyPath: keyPath] = try type.parse(raw, display)
            },
            render: { root in type.render(root[keyPath: keyPath]) }
        )
    }

    /// The same key, reached through `keyPath` from an enclosing value (a section from the whole
    /// configuration).
    func lifted<Outer>(through keyPath: WritableKeyPath<Outer, Root> & Sendable) -> ConfigKey<Outer> {
        let apply = self.apply
        let render = self.render
        return ConfigKey<Outer>(
            name: name,
            typeName: typeName,
            doc: doc,
            isSecret: isSecret,
            defaultDoc: defaultDoc,
            apply: { outer, raw throws(ValueProblems) in try apply(&outer[keyPath: keyPath], raw) },
            render: { outer in render(outer[keyPath: keyPath]) }
        )
    }

    /// The value as the configuration file would spell it; secrets are never shown.
    func displayValue(in root: Root) -> String {
        isSecret ? "(secret)" : render(root)
    }

    /// Parses the value's own rendering again, to check a value that was set in code.
    func recheck(_ root: Root) -> [ValueProblem] {
        var copy = root
        do {
            try apply(&copy, RawValue(text: render(root)))
            return []
        } catch {
            return error.items
        }
    }
}

/// A section of the configuration file (`server:`, `store:`, ...): a mapping of scalar keys, each
/// also settable through `TOKENJAR_<SECTION>_<KEY>`.
public struct ConfigSection: Sendable {
    /// The section's name in the file: `server`.
    public let name: String
    /// What the section is about, for the documentation.
    public let doc: String
    /// The section's keys, reached from the whole configuration.
    public let keys: [ConfigKey<GatewayConfig>]

    init<Section>(
        _ name: String,
        _ keyPath: WritableKeyPath<GatewayConfig, Section> & Sendable,
        doc: String,
        keys: [ConfigKey<Section>]
    ) {
        self.name = name
        self.doc = doc
        self.keys = keys.map { $0.lifted(through: keyPath) }
    }

    /// `server.listen`
    public func keyPath(of key: ConfigKey<GatewayConfig>) -> String {
        "\(name).\(key.name)"
    }

    /// `TOKENJAR_SERVER_LISTEN`
    public func environmentName(of key: ConfigKey<GatewayConfig>) -> String {
        "\(environmentPrefix)\(key.name.uppercased())"
    }

    /// `TOKENJAR_SERVER_`
    var environmentPrefix: String {
        "TOKENJAR_\(name.uppercased())_"
    }

    func key(named name: String) -> ConfigKey<GatewayConfig>? {
        keys.first { $0.name == name }
    }
}
