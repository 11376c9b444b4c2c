import Logging
import NIOConcurrencyHelpers

/// Every log line a logger writes, message and metadata rendered as text, for tests that check
/// what the gateway logs.
final class CapturedLog: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { lines.withLockedValue { $0 } }

    func append(_ line: String) { lines.withLockedValue { $0.append(line) } }

    /// A logger at trace level that writes into this capture.
    func logger(label: String = "tokenjar.test") -> Logger {
        var logger = Logger(label: label) { label in Handler(label: label, log: self) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let label: String
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let explicit = event.metadata
            let message = event.message
            let level = event.level
            let all = metadata.merging(explicit ?? [:]) { _, new in new }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(level) \(label): \(message) \(rendered)")
        }
    }
}
