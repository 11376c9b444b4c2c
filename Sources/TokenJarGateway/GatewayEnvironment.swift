import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Settings of the data plane that do not depend on the route.
public struct ProxySettings: Sendable, Hashable {
    /// Header carrying the client token (`X-Session-Token`).
    public var tokenHeader: String
    /// Headers that carry the verified identity to the backend; removed from client requests.
    public var identityHeaders: [String]
    /// The scheme clients used, for Secure cookies and X-Forwarded-Proto.
    public var scheme: String
    /// Trust a client-sent X-Forwarded-Proto (only behind a TLS-terminating proxy).
    public var trustForwardedProto: Bool
    /// Paths under this prefix are the gateway's own and never forwarded.
    public var reservedPrefix: String
    /// One log line per request.
    public var accessLog: Bool
    /// Load benchmarks only: an unknown client token becomes a session under that token.
    public var adoptClientTokens: Bool = false

    public init(
        tokenHeader: String = "X-Session-Token", identityHeaders: [String] = ["X-WX-OpenID", "X-WX-UnionID"],
        scheme: String = "http", trustForwardedProto: Bool = false, reservedPrefix: String = "/_tokenjar",
        accessLog: Bool = true
    ) {
        self.tokenHeader = tokenHeader
        self.identityHeaders = identityHeaders
        self.scheme = scheme
        self.trustForwardedProto = trustForwardedProto
        self.reservedPrefix = reservedPrefix
        self.accessLog = accessLog
    }
}

/// Everything the connection handlers share. Immutable but for the route table, which a
/// reload swaps as a whole.
final class GatewayEnvironment: Sendable {
    let sessions: SessionManager
    let metrics: GatewayMetrics
    let settings: ProxySettings
    let endpoints: (any GatewayEndpoints)?
    let logger: Logger
    let tokenHeaderLower: String
    let identityHeadersLower: [String]
    let maxConnections: Int
    let headerReadTimeout: TimeAmount
    /// Mints per client address; nil when unlimited.
    let mintLimiter: MintRateLimiter?
    /// The cap on stored sessions; nil when uncapped.
    let sessionCap: SessionCap?
    private let routeTable: NIOLockedValueBox<RouteTable>
    private let active: NIOLockedValueBox<Int>
    private let connections: NIOLockedValueBox<Int>

    init(sessions: SessionManager, settings: ProxySettings, routes: RouteTable, logger: Logger,
         endpoints: (any GatewayEndpoints)?, maxConnections: Int = 10_000, headerReadTimeout: TimeAmount = .seconds(10),
         mintLimiter: MintRateLimiter? = nil, sessionCap: SessionCap? = nil) {
        self.mintLimiter = mintLimiter
        self.sessionCap = sessionCap
        self.maxConnections = maxConnections
        self.headerReadTimeout = headerReadTimeout
        self.connections = NIOLockedValueBox(0)
        self.sessions = sessions
        self.metrics = sessions.metrics
        self.settings = settings
        self.endpoints = endpoints
        self.logger = logger
        // These go on the wire as they are (no outbound validator follows); the configuration
        // checks them, so only a program building the settings itself can get them wrong.
        precondition(WireSafety.isToken(settings.tokenHeader), "the token header must be an HTTP field name")
        precondition(settings.identityHeaders.allSatisfy(WireSafety.isToken), "identity headers must be HTTP field names")
        precondition(WireSafety.isFieldValue(settings.scheme), "the scheme must be http or https")
        self.tokenHeaderLower = settings.tokenHeader.lowercased()
        self.identityHeadersLower = settings.identityHeaders.map { $0.lowercased() }
        self.routeTable = NIOLockedValueBox(routes)
        self.active = NIOLockedValueBox(0)
    }

    var routes: RouteTable { routeTable.withLockedValue { $0 } }

    func replaceRoutes(_ routes: RouteTable) { routeTable.withLockedValue { $0 = routes } }

    /// Requests between their head and their response's end.
    var inFlight: Int { active.withLockedValue { $0 } }
    func exchangeStarted() { active.withLockedValue { $0 += 1 } }
    func exchangeEnded() { active.withLockedValue { $0 -= 1 } }

    /// Counts a new client connection; false when the limit is reached (it is then not counted).
    func connectionOpened() -> Bool {
        connections.withLockedValue {
            guard $0 < maxConnections else { return false }
            $0 += 1
            return true
        }
    }

    func connectionClosed() { connections.withLockedValue { $0 -= 1 } }

    /// Client connections open now.
    var openConnections: Int { connections.withLockedValue { $0 } }
}
