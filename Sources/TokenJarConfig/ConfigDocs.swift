/// The reference table of every key, generated from the key registry so that it cannot drift.
/// `docs/configuration.md` holds a copy between ``beginMarker`` and ``endMarker``; a test keeps
/// the two equal.
public enum ConfigDocs {
    public static let beginMarker = "<!-- BEGIN KEYS -->"
    public static let endMarker = "<!-- END KEYS -->"

    /// One row per key: key path, type, default, environment variable, meaning.
    public static func markdownTable() -> String {
        let defaults = GatewayConfig()
        var lines = [
            "| Key | Type | Default | Environment | Meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for section in ConfigRegistry.sections {
            for key in section.keys {
                lines.append(row(
                    key: section.keyPath(of: key),
                    type: key.typeName,
                    defaultText: key.defaultDoc ?? code(key.displayValue(in: defaults)),
                    environment: code(section.environmentName(of: key)),
                    doc: key.doc
                ))
            }
        }
        let routes = ConfigRegistry.routesName
        lines.append(row(
            key: routes, type: "list of routes", defaultText: "none", environment: "—",
            doc: "Tried in order; the first match wins. At least one route with an upstream is needed to serve."
        ))
        let defaultRoute = RouteConfig()
        for key in ConfigRegistry.routeKeys {
            let environment = key.name == "upstreams"
                ? "\(code(ConfigRegistry.routesUpstreamsVariable)) (default route; comma-separated)" : "—"
            lines.append(row(
                key: "\(routes)[].\(key.name)",
                type: key.typeName,
                defaultText: key.defaultDoc ?? code(key.displayValue(in: defaultRoute)),
                environment: environment,
                doc: key.doc
            ))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text between the markers of `document`, or nil when the markers are missing.
    public static func table(in document: String) -> String? {
        guard let range = tableRange(in: document) else { return nil }
        return String(document[range]).trimmingSpaces() + "\n"
    }

    /// `document` with the text between the markers replaced by the current table, or nil when
    /// the markers are missing.
    public static func replacingTable(in document: String) -> String? {
        guard let range = tableRange(in: document) else { return nil }
        return document.replacingCharacters(in: range, with: "\n" + markdownTable())
    }

    private static func tableRange(in document: String) -> Range<String.Index>? {
        guard let begin = document.range(of: beginMarker),
            let end = document.range(of: endMarker, range: begin.upperBound..<document.endIndex)
        else { return nil }
        return begin.upperBound..<end.lowerBound
    }

    private static func row(key: String, type: String, defaultText: String, environment: String, doc: String) -> String {
        "| \(code(key)) | \(escaped(type)) | \(escaped(defaultText)) | \(environment) | \(escaped(doc)) |"
    }

    /// Inline code; an empty value shows as `""`.
    private static func code(_ text: String) -> String {
        text.isEmpty ? "`\"\"`" : "`\(text)`"
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }
}
