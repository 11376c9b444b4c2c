import Logging
import TokenJarStore

/// The app's `access_token`, fetched once at a time and shared through the store.
///
/// - **In-process single flight.** While a fetch runs, every other caller awaits that same fetch
///   instead of starting its own, so 20 concurrent phone-number requests cost one `stable_token`.
/// - **Across instances.** The token goes to the store's shared values (`wechat.access_token.APPID`)
///   with its expiry; an instance whose own copy is missing or due reads the store first and
///   fetches only when the stored one is due too. Instances that do fetch at the same moment
///   are harmless: `stable_token` in its normal mode hands every caller the same valid token
///   and never invalidates the previous one, which is why it is used rather than `token`.
/// - **Refresh ahead.** A token is replaced `refreshAhead` seconds before it expires. If that
///   fetch fails while the old token is still valid, the old token is used.
actor AccessTokenCache {
    struct Token: Sendable, Equatable {
        var value: String
        /// Unix seconds.
        var expiresAt: Int64
    }

    /// Fetches a new token; `now` is the caller's clock, for its expiry.
    typealias Fetch = @Sendable (_ now: Int64) async throws(WeChatError) -> Token

    private let key: String
    private let refreshAhead: Int64
    private let fetch: Fetch
    private let logger: Logger
    private var local: Token?
    private var inFlight: Task<Token, any Error>?
    /// A token the API refused; never adopted again from the store.
    private var rejected: String?

    init(key: String, refreshAhead: Int64, logger: Logger, fetch: @escaping Fetch) {
        self.key = key
        self.refreshAhead = refreshAhead
        self.logger = logger
        self.fetch = fetch
    }

    /// A valid token: the cached one while it is fresh, else the store's, else a fetched one.
    func token(store: any SessionStore, now: Int64) async throws(WeChatError) -> String {
        if let local, isFresh(local, now: now) { return local.value }
        if let inFlight { return try await Self.value(of: inFlight) }
        let previous = local
        let task = Task { [key, fetch, rejected, refreshAhead, logger] () async throws -> Token in
            if let shared = await Self.sharedToken(store: store, key: key, logger: logger),
                shared.value != rejected, now < shared.expiresAt - refreshAhead
            {
                return shared
            }
            do {
                let token = try await fetch(now)
                do {
                    try await store.setSharedValue(key, Array(token.value.utf8), expiresAt: token.expiresAt)
                } catch {
                    logger.warning("could not share the access token through the store", metadata: ["error": "\(error)"])
                }
                return token
            } catch {
                // A failed refresh keeps a token that is still valid (never a refused one).
                if let previous, previous.value != rejected, now < previous.expiresAt { return previous }
                throw error
            }
        }
        inFlight = task
        defer { inFlight = nil }
        let token: Token
        do {
            token = try await task.value
        } catch {
            throw (error as? WeChatError) ?? .apiError
        }
        local = token
        return token.value
    }

    /// Forgets a token the API refused (`40001`, `42001`), so the next call fetches another.
    func invalidate(_ value: String) {
        rejected = value
        if local?.value == value { local = nil }
    }

    private func isFresh(_ token: Token, now: Int64) -> Bool {
        token.value != rejected && now < token.expiresAt - refreshAhead
    }

    private static func value(of task: Task<Token, any Error>) async throws(WeChatError) -> String {
        do {
            return try await task.value.value
        } catch {
            throw (error as? WeChatError) ?? .apiError
        }
    }

    private static func sharedToken(store: any SessionStore, key: String, logger: Logger) async -> Token? {
        do {
            guard let shared = try await store.sharedValue(key) else { return nil }
            return Token(value: String(decoding: shared.value, as: UTF8.self), expiresAt: shared.expiresAt)
        } catch {
            logger.warning("could not read the shared access token from the store", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
