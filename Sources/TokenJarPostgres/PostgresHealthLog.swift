import Logging
import NIOConcurrencyHelpers
import TokenJarStore

/// Logs when the database stops answering and when it answers again: one line each way, not
/// one per failed request.
final class HealthLog: Sendable {
    private let down = NIOLockedValueBox(false)
    private let logger: Logger
    private let endpoint: String

    init(logger: Logger, endpoint: String) {
        self.logger = logger
        self.endpoint = endpoint
    }

    /// Sets the state; returns the previous one.
    private func exchange(_ isDown: Bool) -> Bool {
        down.withLockedValue { value in
            let before = value
            value = isDown
            return before
        }
    }

    func record<R>(_ result: Result<R, any Error>) {
        switch result {
        case .success:
            if exchange(false) {
                logger.notice("PostgreSQL store reachable again", metadata: ["endpoint": "\(endpoint)"])
            }
        case .failure(let error):
            guard let error = error as? StoreError, error == .unavailable else { return }
            if !exchange(true) {
                logger.warning("PostgreSQL store unavailable; requests get 503 until it answers", metadata: [
                    "endpoint": "\(endpoint)", "error": "\(error)",
                ])
            }
        }
    }
}
