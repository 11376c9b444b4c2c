import Logging
import NIOConcurrencyHelpers

/// Every log line of a test, message and metadata rendered as text, at every level.
final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { lines.withLockedValue { $0 } }

    func logger(_ label: String = "test") -> Logger {
        Logger(label: label) { label in CapturingHandler(label: label, capture: self) }
    }

    fileprivate func append(_ line: String) {
        lines.withLockedValue { $0.append(line) }
    }

    /// The lines that contain any of `needles`.
    func lines(containingAnyOf needles: [String]) -> [String] {
        all.filter { line in needles.contains { !$0.isEmpty && line.contains($0) } }
    }
}

private struct CapturingHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        let merged = self.metadata.merging(metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(level) \(label) \(message) \(rendered)")
    }
}
