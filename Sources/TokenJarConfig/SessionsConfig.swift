/// How long sessions live and how often their bookkeeping is written.
public struct SessionsConfig: Sendable, Equatable {
    /// A session unused for this long is deleted.
    public var idleTimeout: Duration
    /// A session is deleted this long after it was created, however busy.
    public var absoluteLifetime: Duration
    /// How often expired sessions are swept from the store.
    public var sweepInterval: Duration
    /// A session's last-seen time is written at most this often.
    public var touchInterval: Duration
    /// New sessions one client address may mint per minute, on average; 0 = no limit.
    public var mintRate: Int
    /// New sessions one client address may mint at once before `mintRate` applies.
    public var mintBurst: Int
    /// Most sessions in the store; 0 = no cap.
    public var maxSessions: Int

    public init(
        idleTimeout: Duration = .seconds(7 * 86_400),
        absoluteLifetime: Duration = .seconds(30 * 86_400),
        sweepInterval: Duration = .seconds(60),
        touchInterval: Duration = .seconds(60),
        mintRate: Int = 120,
        mintBurst: Int = 60,
        maxSessions: Int = 1_000_000
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteLifetime = absoluteLifetime
        self.sweepInterval = sweepInterval
        self.touchInterval = touchInterval
        self.mintRate = mintRate
        self.mintBurst = mintBurst
        self.maxSessions = maxSessions
    }
}

extension SessionsConfig {
    static let configKeys: [ConfigKey<SessionsConfig>] = [
        .key("idle_timeout", .duration(), \.idleTimeout, doc: "A session unused for this long is deleted."),
        .key("absolute_lifetime", .duration(), \.absoluteLifetime,
             doc: "A session is deleted this long after it was created, however busy it is."),
        .key("sweep_interval", .duration(), \.sweepInterval, doc: "How often expired sessions are removed."),
        .key("touch_interval", .duration(), \.touchInterval,
             doc: "A session's last-seen time is written at most this often; must be shorter than `idle_timeout`."),
        .key("mint_rate", .integer(0...Int.max), \.mintRate,
             doc: "New sessions one client address (IPv4 address, IPv6 /64) may mint per minute, on average (a token bucket); more is answered 429 `mint_rate_limited`. Requests with a valid token are never limited. 0 = no limit."),
        .key("mint_burst", .integer(1...Int.max), \.mintBurst,
             doc: "New sessions one client address may mint at once before `mint_rate` applies (the bucket's size)."),
        .key("max_sessions", .integer(0...Int.max), \.maxSessions,
             doc: "Most sessions in the store. A mint past it first evicts the least recently seen idle anonymous sessions; when none can go, it is answered 503 `session_limit_reached`. 0 = no cap."),
    ]
}
