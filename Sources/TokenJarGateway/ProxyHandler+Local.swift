import Logging
import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// Answers the current request from the gateway itself with a JSON error. When `close` is
    /// set, or the request body is still arriving and cannot be trusted, the connection closes
    /// after the answer.
    func respondLocally(_ error: GatewayError, close: Bool) {
        guard !responseHeadSent else {
            context.close(promise: nil)
            return
        }
        cancelTimer()
        pendingParts.removeAll()
        heldParts.removeAll()
        let body = error.jsonBody
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Cache-Control", value: "no-store")
        let closing = close || !keepAlive
        if closing { headers.add(name: "Connection", value: "close") }
        let version = head?.version ?? .http1_1
        responseStatus = error.status.code
        responseHeadSent = true
        phase = .answered
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: error.status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let promise: EventLoopPromise<Void>? = closing ? context.eventLoop.makePromise() : nil
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        if let promise {
            let context = self.context!
            promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        resumeClientReads()
        if requestEnded || closing { completeLocalAnswer() }
    }

    /// The local answer is out and the request fully read: the connection may take the next one.
    func completeLocalAnswer() {
        finishExchange(logged: true)
    }

    /// Ends the current exchange: logs it and resets the per-request state.
    func finishExchange(logged: Bool) {
        guard phase != .idle else { return }
        if logged && env.settings.accessLog { logAccess() }
        env.exchangeEnded()
        phase = .idle
        route = nil
        session = nil
        cookieURL = nil
        upstreamRequestHead = nil
        pendingParts.removeAll(keepingCapacity: true)
        heldParts.removeAll(keepingCapacity: true)
        instanceOrder = []
        upstreamStartedAt = nil
        upstreamHeadAt = nil
        resumeClientReads()
    }

    private func logAccess() {
        var metadata: Logger.Metadata = [
            "method": "\(head?.method.rawValue ?? "-")",
            "route": "\(route?.name ?? "-")",
            "status": "\(responseStatus)",
            "ms": "\(Self.millis(NIODeadline.now() - startedAt))",
        ]
        if let start = upstreamStartedAt, let end = upstreamHeadAt {
            metadata["upstream_ms"] = "\(Self.millis(end - start))"
        }
        if let session { metadata["session"] = "\(session.hash.shortHex)" }
        env.logger.info("access", metadata: metadata)
    }

    private static func millis(_ t: TimeAmount) -> String {
        let micros = t.nanoseconds / 1_000
        let frac = String(micros % 1_000)
        return "\(micros / 1_000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
