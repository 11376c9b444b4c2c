/// Environment overrides: `TOKENJAR_<SECTION>_<KEY>` for every key of every section, and
/// `TOKENJAR_ROUTES_UPSTREAMS` (comma-separated URLs) for the default route's upstreams.
///
/// An empty variable counts as unset. Problems are named by the variable.
extension ConfigBuilder {
    mutating func applyEnvironment(_ environment: [String: String]) {
        for section in ConfigRegistry.sections {
            for key in section.keys {
                let name = section.environmentName(of: key)
                guard let value = environment[name], !value.trimmingSpaces().isEmpty else { continue }
                set(key, raw: RawValue(text: value), keyPath: section.keyPath(of: key), reportAs: name,
                    origin: .environment(name))
            }
        }
        let upstreamsName = ConfigRegistry.routesUpstreamsVariable
        if let value = environment[upstreamsName], !value.trimmingSpaces().isEmpty {
            setDefaultRouteUpstreams(raw: RawValue(text: value), reportAs: upstreamsName, origin: .environment(upstreamsName))
        }
        reportUnknownVariables(environment)
    }

    /// Every environment variable the configuration reads.
    static var knownVariables: [String] {
        ConfigRegistry.sections.flatMap { section in section.keys.map { section.environmentName(of: $0) } }
            + [ConfigRegistry.routesUpstreamsVariable]
    }

    /// A `TOKENJAR_` variable that names a known section but no key of it, or that is a near miss
    /// of a known variable, is a mistake worth reporting. Other `TOKENJAR_` variables may belong
    /// to other parts of the program and are left alone.
    private mutating func reportUnknownVariables(_ environment: [String: String]) {
        let known = Self.knownVariables
        let knownSet = Set(known)
        let prefixes = ConfigRegistry.sections.map(\.environmentPrefix) + ["TOKENJAR_ROUTES_"]
        for name in environment.keys.sorted() where name.hasPrefix("TOKENJAR_") && !knownSet.contains(name) {
            let inKnownSection = prefixes.contains { name.hasPrefix($0) }
            let nearMiss = known.contains { Suggestions.editDistance(name, $0) <= 2 }
            guard inKnownSection || nearMiss else { continue }
            report(.unknownKey, keyPath: name, line: nil,
                   message: "unknown environment variable\(Suggestions.hint(for: name, among: known))")
        }
    }
}
