import Foundation
import Testing

@testable import TokenJarConfig

@Suite struct DocsTests {
    static let documentURL = repositoryRoot.appendingPathComponent("docs").appendingPathComponent("configuration.md")
    static let regenerateVariable = "TOKENJAR_REGENERATE_DOCS"

    /// The table in docs/configuration.md is the generated one. Run with
    /// `TOKENJAR_REGENERATE_DOCS=1` to rewrite it from the registry.
    @Test func documentedTableMatchesTheRegistry() throws {
        let document = try String(contentsOf: Self.documentURL, encoding: .utf8)
        if ProcessInfo.processInfo.environment[Self.regenerateVariable] == "1" {
            let updated = try #require(ConfigDocs.replacingTable(in: document), "markers missing")
            try updated.write(to: Self.documentURL, atomically: true, encoding: .utf8)
            return
        }
        let table = try #require(
            ConfigDocs.table(in: document),
            "docs/configuration.md lacks the \(ConfigDocs.beginMarker) / \(ConfigDocs.endMarker) markers")
        #expect(
            table == ConfigDocs.markdownTable(),
            "docs/configuration.md is out of date with the configuration keys; regenerate the table with: \(Self.regenerateVariable)=1 swift test --filter TokenJarConfigTests.DocsTests"
        )
    }

    @Test func tableHasARowForEveryKey() {
        let table = ConfigDocs.markdownTable()
        let rows = table.split(separator: "\n").dropFirst(2)
        let keyCount = ConfigRegistry.sections.reduce(0) { $0 + $1.keys.count } + 1 + ConfigRegistry.routeKeys.count
        #expect(rows.count == keyCount)
        #expect(table.contains("| `server.listen` | address (`HOST:PORT`) | `127.0.0.1:8080` | `TOKENJAR_SERVER_LISTEN` |"))
        #expect(table.contains("| `sessions.idle_timeout` | duration | `7d` | `TOKENJAR_SESSIONS_IDLE_TIMEOUT` |"))
        #expect(table.contains("| `cookies.public_suffix_list` | string | `\"\"` |"))
        #expect(table.contains("| `routes[].mint` | one of `auto`, `never` | `auto` | — |"))
        #expect(table.contains("`TOKENJAR_ROUTES_UPSTREAMS` (default route; comma-separated)"))
        for row in rows {
            #expect(row.hasPrefix("| `") && row.hasSuffix(" |"))
            #expect(row.components(separatedBy: " | ").count == 5, "\(row)")
        }
    }

    @Test func replacingKeepsTheProseAroundTheMarkers() throws {
        let document = "# Title\n\nbefore\n\(ConfigDocs.beginMarker)\nold\n\(ConfigDocs.endMarker)\nafter\n"
        let updated = try #require(ConfigDocs.replacingTable(in: document))
        #expect(updated.hasPrefix("# Title\n\nbefore\n\(ConfigDocs.beginMarker)\n| Key |"))
        #expect(updated.hasSuffix("|\n\(ConfigDocs.endMarker)\nafter\n"))
        #expect(ConfigDocs.table(in: updated) == ConfigDocs.markdownTable())
        #expect(ConfigDocs.replacingTable(in: "no markers") == nil)
    }
}
