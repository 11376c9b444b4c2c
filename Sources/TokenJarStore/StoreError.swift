/// Errors thrown (or failed futures) by session stores.
///
/// Compare with the static members (`error == .sessionNotFound`); two errors are equal when they
/// are of the same kind, whatever their detail. Descriptions never carry cookie payloads, token
/// hashes or credentials, so they are safe to log.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Internal: Hashable, Sendable {
        case unavailable
        case sessionNotFound
        case sessionExists
        case corrupt
        case closed
        case schemaTooNew
        case incompatible
        case invalidArgument
        case invalidSpec
        case notSupported
        case failed
    }

    private let value: Internal
    /// Extra context for logs (an SQLite message, a version number); never a value from a row.
    public let detail: String?

    private init(value: Internal, detail: String? = nil) {
        self.value = value
        self.detail = detail
    }

    public static func == (a: StoreError, b: StoreError) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    /// The store cannot be reached or used right now (I/O error, disk full, busy, cannot open).
    public static var unavailable: Self { .init(value: .unavailable) }
    /// The session of a write does not exist (never created, expired and swept, or revoked).
    public static var sessionNotFound: Self { .init(value: .sessionNotFound) }
    /// A session that was to be created exists already.
    public static var sessionExists: Self { .init(value: .sessionExists) }
    /// The store's data is damaged or is not a database.
    public static var corrupt: Self { .init(value: .corrupt) }
    /// The store has been shut down.
    public static var closed: Self { .init(value: .closed) }
    /// The database was written by a newer version of the gateway.
    public static var schemaTooNew: Self { .init(value: .schemaTooNew) }
    /// The file is a database of some other application.
    public static var incompatible: Self { .init(value: .incompatible) }
    /// An argument was malformed (for example a hash prefix that is not hex).
    public static var invalidArgument: Self { .init(value: .invalidArgument) }
    /// A `--store` specification could not be parsed.
    public static var invalidSpec: Self { .init(value: .invalidSpec) }
    /// The kind of store is not available in this build.
    public static var notSupported: Self { .init(value: .notSupported) }
    /// Any other failure of the underlying database.
    public static var failed: Self { .init(value: .failed) }

    /// The same kind of error with some context attached.
    public func with(detail: String) -> Self { .init(value: value, detail: detail) }

    public var description: String {
        let base: String
        switch value {
        case .unavailable: base = "session store unavailable"
        case .sessionNotFound: base = "session not found"
        case .sessionExists: base = "session exists already"
        case .corrupt: base = "session store is corrupt"
        case .closed: base = "session store is closed"
        case .schemaTooNew: base = "session store schema is newer than this build supports"
        case .incompatible: base = "file is not a session store"
        case .invalidArgument: base = "invalid argument"
        case .invalidSpec: base = "invalid store specification"
        case .notSupported: base = "store not available in this build"
        case .failed: base = "session store operation failed"
        }
        guard let detail else { return base }
        return "\(base): \(detail)"
    }
}
