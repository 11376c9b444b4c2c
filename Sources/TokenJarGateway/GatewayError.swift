import NIOHTTP1

/// An error the gateway answers itself, with its HTTP status and a stable machine-readable code.
///
/// Messages are fixed strings: they never carry a token, a cookie value or a secret.
public struct GatewayError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case badRequest
        case tokenRequired
        case loginRequired
        case sessionRevoked
        case notFound
        case noRoute
        case bodyTooLarge
        case upstreamUnreachable
        case upstreamTimeout
        case upstreamBroken
        case upstreamInvalid
        case mintRateLimited
        case sessionLimitReached
        case storeUnavailable
        case shuttingDown
    }

    private let kind: Kind

    public static let badRequest = GatewayError(kind: .badRequest)
    public static let tokenRequired = GatewayError(kind: .tokenRequired)
    public static let loginRequired = GatewayError(kind: .loginRequired)
    public static let sessionRevoked = GatewayError(kind: .sessionRevoked)
    public static let notFound = GatewayError(kind: .notFound)
    public static let noRoute = GatewayError(kind: .noRoute)
    public static let bodyTooLarge = GatewayError(kind: .bodyTooLarge)
    public static let upstreamUnreachable = GatewayError(kind: .upstreamUnreachable)
    public static let upstreamTimeout = GatewayError(kind: .upstreamTimeout)
    public static let upstreamBroken = GatewayError(kind: .upstreamBroken)
    public static let upstreamInvalid = GatewayError(kind: .upstreamInvalid)
    public static let mintRateLimited = GatewayError(kind: .mintRateLimited)
    public static let sessionLimitReached = GatewayError(kind: .sessionLimitReached)
    public static let storeUnavailable = GatewayError(kind: .storeUnavailable)
    public static let shuttingDown = GatewayError(kind: .shuttingDown)

    /// The HTTP status the client receives.
    public var status: HTTPResponseStatus {
        switch kind {
        case .badRequest: .badRequest
        case .tokenRequired, .loginRequired, .sessionRevoked: .unauthorized
        case .notFound, .noRoute: .notFound
        case .bodyTooLarge: .payloadTooLarge
        case .upstreamUnreachable, .upstreamBroken, .upstreamInvalid: .badGateway
        case .mintRateLimited: .tooManyRequests
        case .upstreamTimeout: .gatewayTimeout
        case .storeUnavailable, .shuttingDown, .sessionLimitReached: .serviceUnavailable
        }
    }

    /// The stable code in the JSON body; clients and the client library switch on it.
    public var code: String {
        switch kind {
        case .badRequest: "bad_request"
        case .tokenRequired: "token_required"
        case .loginRequired: "login_required"
        case .sessionRevoked: "session_revoked"
        case .notFound: "not_found"
        case .noRoute: "no_route"
        case .bodyTooLarge: "body_too_large"
        case .upstreamUnreachable: "upstream_unreachable"
        case .upstreamTimeout: "upstream_timeout"
        case .upstreamBroken: "upstream_broken"
        case .upstreamInvalid: "upstream_invalid_response"
        case .mintRateLimited: "mint_rate_limited"
        case .sessionLimitReached: "session_limit_reached"
        case .storeUnavailable: "store_unavailable"
        case .shuttingDown: "shutting_down"
        }
    }

    /// A short, fixed, human-readable explanation.
    public var message: String {
        switch kind {
        case .badRequest: "The request is malformed."
        case .tokenRequired: "This route needs a valid session token."
        case .loginRequired: "This route needs a logged-in session; log in again."
        case .sessionRevoked: "The session was revoked; start a new one."
        case .notFound: "No such gateway endpoint."
        case .noRoute: "No route matches this request."
        case .bodyTooLarge: "The request body exceeds the configured limit."
        case .upstreamUnreachable: "The backend could not be reached."
        case .upstreamTimeout: "The backend did not answer in time."
        case .upstreamBroken: "The backend closed the connection before a complete response."
        case .upstreamInvalid: "The backend sent a response the gateway will not forward."
        case .mintRateLimited: "Too many new sessions from this address; retry later."
        case .sessionLimitReached: "The gateway holds as many sessions as it may; retry later."
        case .storeUnavailable: "The session store is unavailable; retry shortly."
        case .shuttingDown: "The gateway is shutting down."
        }
    }

    public var description: String { "\(code) (\(status.code)): \(message)" }

    /// The JSON body: `{"error":{"code":"...","message":"..."}}`.
    public var jsonBody: String {
        #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#
    }
}
