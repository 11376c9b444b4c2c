import CookieEngine
import Logging
import NIOCore
import NIOHTTP1
import TokenJarStore

extension ProxyHandler: UpstreamDelegate {
    func upstreamRead(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            responseHead(head)
        case .body(let buffer):
            touchDeadline()
            if phase == .committing {
                heldParts.append(part)
                heldBytes += buffer.readableBytes
                if heldBytes > Self.heldBytesLimit { upstream?.handler.pauseReading() }
                return
            }
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable { upstream?.handler.pauseReading() }
        case .end(let trailers):
            if phase == .committing {
                heldParts.append(part)
                return
            }
            // Trailers holding CR, LF or NUL are dropped, never forwarded.
            responseEnded(trailers.flatMap { ResponseRewriter.hasForbiddenBytes($0) ? nil : $0 })
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable, phase != .idle, phase != .answered { resumeClientReads() }
    }

    func upstreamClosed(error: (any Error)?) {
        let conn = upstream
        upstream = nil
        switch phase {
        case .forwarding:
            cancelTimer()
            // The backend closed before any answer. An idempotent request whose body did not go
            // out is sent again: on a fresh connection to the same instance when a kept-alive one
            // went stale, else to the next instance.
            // A response the parser refused is the backend's fault, not a stale connection.
            let unparsable = error is HTTPParserError
            if let conn, !unparsable, bodyBytes == 0, staleRetries < 2, head.method.isIdempotent, let upstreamRequestHead {
                staleRetries += 1
                phase = .preparing
                pendingParts = [.head(upstreamRequestHead)]
                if requestEnded { pendingParts.append(.end(nil)) }
                if conn.reused {
                    attempt = max(0, attempt - 1)
                    connect(fresh: true)
                } else {
                    connect()
                }
                return
            }
            respondLocally(unparsable ? .upstreamInvalid : .upstreamBroken, close: true)
        case .committing:
            // The head arrived; the body did not finish. Once the jar write commits, what came is
            // handed on and the client connection is aborted: a clean end would pass a truncated
            // body off as a whole one.
            if !heldParts.contains(where: { if case .end = $0 { true } else { false } }) {
                truncatedWhileCommitting = true
                upstreamKeepAlive = false
                keepAlive = false
            }
        case .streaming:
            cancelTimer()
            // Mid-body reset: the client must not take a truncated body for a whole one.
            context.close(promise: nil)
        case .idle, .preparing, .answered, .endpoint:
            break
        }
    }

    private func responseHead(_ upstreamHead: HTTPResponseHead) {
        guard phase == .forwarding, let route, var session, let cookieURL else { return }
        if ResponseRewriter.hasForbiddenBytes(upstreamHead.headers) || !WireSafety.isSendable(upstreamHead.status) {
            env.logger.warning("backend head with CR, LF or NUL refused", metadata: ["route": "\(route.name)"])
            abortUpstream()
            return respondLocally(.upstreamInvalid, close: !requestEnded)
        }
        if upstreamHead.status.code < 200 && upstreamHead.status != .switchingProtocols {
            // 1xx interim responses go to the client as they are.
            context.writeAndFlush(wrapOutboundOut(.head(upstreamHead)), promise: nil)
            return
        }
        upstreamHeadAt = .now()
        arm(route.bodyIdleTimeout)
        // The parser's reading of the head (its `Connection` options, version and framing):
        // `upstreamHead.isKeepAlive` would scan the headers again.
        upstreamKeepAlive = upstream?.handler.responseKeepAlive ?? false
        var headers = upstreamHead.headers
        let setCookie = ResponseRewriter.clientHeaders(from: &headers, passSetCookie: route.passSetCookie)
        if let token = session.mintedToken { headers.replaceOrAdd(name: env.settings.tokenHeader, value: token) }
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let clientHead = HTTPResponseHead(version: head.version, status: upstreamHead.status, headers: headers)
        responseStatus = upstreamHead.status.code

        let write = env.sessions.applyResponse(
            &session, setCookie: setCookie, from: cookieURL, nowMicros: env.sessions.clock.nowMicros())
        self.session = session
        guard let write else { return sendResponseHead(clientHead) }

        phase = .committing
        let generation = self.generation
        env.sessions.commit(write, on: context.eventLoop).assumeIsolated().whenComplete { result in
            guard generation == self.generation, self.phase == .committing else { return }
            switch result {
            case .success:
                self.sendResponseHead(clientHead)
                let held = self.heldParts
                self.heldParts.removeAll()
                self.heldBytes = 0
                for part in held { self.upstreamRead(part) }
                if self.truncatedWhileCommitting {
                    self.truncatedWhileCommitting = false
                    self.context.flush()
                    self.context.close(promise: nil)
                    return
                }
                if self.phase == .streaming { self.upstream?.handler.resumeReading() }
            case .failure(let error):
                self.heldParts.removeAll()
                self.heldBytes = 0
                self.env.logger.error("jar write failed", metadata: [
                    "error": "\(error)", "session": "\(write.tokenHash.shortHex)",
                ])
                self.abortUpstream()
                let storeError: GatewayError = (error as? StoreError) == .sessionNotFound ? .sessionRevoked : .storeUnavailable
                self.respondLocally(storeError, close: !self.requestEnded)
            }
        }
    }

    private func sendResponseHead(_ clientHead: HTTPResponseHead) {
        phase = .streaming
        responseHeadSent = true
        context.write(wrapOutboundOut(.head(clientHead)), promise: nil)
    }

    private func responseEnded(_ trailers: HTTPHeaders?) {
        cancelTimer()
        let conn = upstream
        upstream = nil
        if let conn {
            if upstreamKeepAlive && requestEnded {
                pool.release(conn)
            } else {
                // Detached first: the close must not reach this exchange as a mid-body reset.
                conn.handler.delegate = nil
                conn.channel.close(promise: nil)
            }
        }
        let close = !keepAlive || !requestEnded
        // The exchange ends before `.end` is written: writing it may deliver the next pipelined
        // request into this handler at once.
        finishExchange(logged: true)
        let promise: EventLoopPromise<Void>? = close ? context.eventLoop.makePromise() : nil
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: promise)
        if let promise {
            let context = self.context!
            promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    // MARK: timers

    /// Sets the deadline of the current wait (response head, then body idle).
    func arm(_ timeout: TimeAmount) {
        let newDeadline = NIODeadline.now() + timeout
        deadline = newDeadline
        if timer != nil, let firesAt = timerFiresAt, firesAt <= newDeadline { return }
        timer?.cancel()
        schedule(in: timeout)
    }

    func touchDeadline() {
        guard let route, deadline != nil else { return }
        deadline = .now() + route.bodyIdleTimeout
    }

    /// The timer outlives exchanges: it is scheduled at most once per timeout period and, when
    /// it fires, acts on whatever deadline the current exchange has set (none: nothing to do).
    private func schedule(in amount: TimeAmount) {
        timerFiresAt = .now() + amount
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: amount) {
            self.timer = nil
            self.timerFiresAt = nil
            guard let deadline = self.deadline else { return }
            let now = NIODeadline.now()
            if now < deadline { return self.schedule(in: deadline - now) }
            self.timedOut()
        }
    }

    /// Ends the current wait. The scheduled task stays for the next exchange's wait (it finds
    /// no deadline if it fires first); `channelInactive` cancels it for good.
    func cancelTimer() {
        deadline = nil
    }

    private func timedOut() {
        deadline = nil
        env.logger.warning("backend timed out", metadata: ["route": "\(route?.name ?? "-")"])
        abortUpstream()
        if responseHeadSent {
            context.close(promise: nil)
        } else {
            respondLocally(.upstreamTimeout, close: true)
        }
    }

    /// Drops the upstream connection of the current exchange; it is never reused.
    func abortUpstream() {
        cancelTimer()
        guard let conn = upstream else { return }
        upstream = nil
        conn.handler.delegate = nil
        conn.channel.close(promise: nil)
    }
}
