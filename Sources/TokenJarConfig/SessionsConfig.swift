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

    public init(
        idleTimeout: Duration = .seconds(7 * 86_400),
        absoluteLifetime: Duration = .seconds(30 * 86_400),
        sweepInterval: Duration = .seconds(60),
        touchInterval: Duration = .seconds(60)
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteLifetime = absoluteLifetime
        self.sweepInterval = sweepInterval
        self.touchInterval = touchInterval
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
    ]
}
