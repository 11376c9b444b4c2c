import Logging
import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// A request without a valid token on a minting route: the client address's mint rate, then
    /// the session cap, decide whether it gets a new session. Requests with a valid token never
    /// come here, so existing sessions are never limited.
    func admitMint(now: Int64) {
        if let limiter = env.mintLimiter, let key = ClientAddressKey(context.channel.remoteAddress),
           let wait = limiter.take(key, nowNanos: NIODeadline.now().uptimeNanoseconds) {
            return respondMintRateLimited(retryAfter: wait)
        }
        guard let cap = env.sessionCap, let pending = cap.admit(now: now, on: context.eventLoop) else {
            return mintSession(now: now)
        }
        pauseClientReads()
        let generation = self.generation
        pending.assumeIsolated().whenComplete { result in
            guard generation == self.generation, self.phase == .preparing else { return }
            self.resumeClientReads()
            switch result {
            case .success(true):
                self.mintSession(now: now)
            case .success(false):
                self.env.logger.warning("session cap reached and no idle anonymous session to evict; mint refused",
                                        metadata: ["max_sessions": "\(cap.limit)"])
                self.respondLocally(.sessionLimitReached, close: false)
            case .failure(let error):
                self.env.logger.error("session eviction failed", metadata: ["error": "\(error)"])
                self.respondLocally(.storeUnavailable, close: false)
            }
        }
    }

    /// 429 with the stable JSON body and the seconds until a mint would be allowed.
    func respondMintRateLimited(retryAfter seconds: Int) {
        let error = GatewayError.mintRateLimited
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Retry-After", value: String(seconds))
        writeLocal(status: error.status, headers: headers, body: ByteBuffer(string: error.jsonBody), close: false)
    }
}
