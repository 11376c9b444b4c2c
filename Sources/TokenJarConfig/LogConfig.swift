/// What the gateway logs and how.
public struct LogConfig: Sendable, Equatable {
    /// The levels of swift-log, by the same names.
    public enum Level: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public enum Format: String, Sendable, CaseIterable {
        /// One human-readable line per event.
        case text
        /// One JSON object per line.
        case json
    }

    public var level: Level
    public var format: Format
    /// Whether each proxied request is logged.
    public var accessLog: Bool

    public init(level: Level = .info, format: Format = .text, accessLog: Bool = true) {
        self.level = level
        self.format = format
        self.accessLog = accessLog
    }
}

extension LogConfig {
    static let configKeys: [ConfigKey<LogConfig>] = [
        .key("level", .choice, \.level, doc: "Least severe level logged."),
        .key("format", .choice, \.format, doc: "`text` lines for people, `json` lines for collectors."),
        .key("access_log", .bool, \.accessLog, doc: "Log one line per proxied request."),
    ]
}
