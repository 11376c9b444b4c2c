import PostgresNIO
import TokenJarStore

/// Maps what postgres-nio throws to `StoreError`.
///
/// Details name an SQLSTATE and, for operational errors only (connection, authentication, missing
/// objects, resources, shutdown), the server's primary message. A server's DETAIL field, which
/// can quote row values, is never used; neither is the description of a decoding error, which
/// can quote a cell.
enum PostgresErrors {
    static func storeError(_ error: any Error) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case let error as PSQLError:
            return storeError(error)
        case let error as PostgresError:
            // What statements prepared through `PreparedQuery` (the data-plane lanes) fail with.
            switch error {
            case .server(let server):
                return storeError(sqlState: server.fields[.sqlState] ?? "?????", message: server.fields[.message])
            case .connectionClosed:
                return .unavailable.with(detail: "connection closed")
            case .protocol:
                return .unavailable.with(detail: "protocol error")
            }
        case let error as PostgresTransactionError:
            // Not thrown by this module's own transactions; kept for completeness.
            if let inner = error.closureError ?? error.beginError ?? error.commitError {
                return storeError(inner)
            }
            return .failed.with(detail: "transaction failed")
        case is CancellationError:
            return .unavailable.with(detail: "operation cancelled")
        case is PostgresDecodingError:
            return .corrupt.with(detail: "a stored value has an unexpected type")
        default:
            // The pool's own errors (circuit breaker open, shut down) and socket errors.
            return .unavailable.with(detail: "\(type(of: error))")
        }
    }

    private static func storeError(_ error: PSQLError) -> StoreError {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? "?????"
            return storeError(sqlState: state, message: error.serverInfo?[.message])
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
             .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest, .queryCancelled:
            return .unavailable.with(detail: error.code.description)
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return .unavailable.with(detail: "cannot authenticate: \(error.code.description)")
        default:
            return .failed.with(detail: error.code.description)
        }
    }

    static func storeError(sqlState: String, message: String?) -> StoreError {
        let shown = message.map { "SQLSTATE \(sqlState): \($0)" } ?? "SQLSTATE \(sqlState)"
        switch sqlState {
        case "23503": return .sessionNotFound  // a cookie for a session that is gone
        case "23505": return .sessionExists
        case "57014": return .unavailable.with(detail: "statement timeout (SQLSTATE 57014)")
        default: break
        }
        switch sqlState.prefix(2) {
        case "08", "53", "57", "58":  // connection, resources, operator intervention, system
            return .unavailable.with(detail: shown)
        case "40":  // serialization failure, deadlock: worth retrying
            return .unavailable.with(detail: "SQLSTATE \(sqlState)")
        case "28", "3D":  // authentication, no such database
            return .unavailable.with(detail: shown)
        case "42":  // missing table or column, permissions
            return .failed.with(detail: shown)
        default:
            return .failed.with(detail: "SQLSTATE \(sqlState)")
        }
    }
}
