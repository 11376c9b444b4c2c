import Logging
import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// Answers the current request from the gateway itself with a JSON error. When `close` is
    /// set, or the request body is still arriving and cannot be trusted, the connection closes
    /// after the answer.
    func respondLocally(_ error: GatewayError, close: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        writeLocal(status: error.status, headers: headers, body: ByteBuffer(string: error.jsonBody), close: close)
    }

    /// Runs a gateway endpoint off the event loop and writes its answer.
    func dispatchEndpoint() {
        guard let endpoints = env.endpoints else { return respondLocally(.notFound, close: false) }
        let uri = head.uri
        let queryStart = uri.utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = queryStart.map { String(uri[..<$0]) } ?? uri
        let token = head.headers.first(name: env.tokenHeaderLower).flatMap { SessionToken.isWellFormed($0) ? $0 : nil }
        let request = EndpointRequest(
            method: head.method, path: String(path.dropFirst(env.settings.reservedPrefix.utf8.count)),
            query: queryStart.map { String(uri[uri.index(after: $0)...]) } ?? "",
            headers: head.headers, body: endpointBody, token: token, clientAddress: clientAddress)
        endpointBody = ByteBuffer()
        let sessions = GatewaySessions(manager: env.sessions, eventLoop: context.eventLoop)
        let generation = self.generation
        pauseClientReads()
        context.eventLoop.makeFutureWithTask {
            await endpoints.handle(request, sessions: sessions)
        }.assumeIsolated().whenComplete { result in
            guard generation == self.generation, self.phase == .endpoint else { return }
            switch result {
            case .success(let response?):
                var headers = response.headers
                if let token = response.token { headers.replaceOrAdd(name: self.env.settings.tokenHeader, value: token) }
                // No outbound validator follows: an answer that cannot be written as it is goes no further.
                guard WireSafety.areFields(headers), WireSafety.isSendable(response.status) else {
                    self.env.logger.error("endpoint answer with an invalid header refused", metadata: ["status": "\(response.status.code)"])
                    return self.respondLocally(.upstreamInvalid, close: false)
                }
                self.writeLocal(status: response.status, headers: headers, body: response.body, close: false)
            case .success(nil):
                self.respondLocally(.notFound, close: false)
            case .failure:
                self.respondLocally(.storeUnavailable, close: false)
            }
        }
    }

    /// Writes a whole response the gateway made itself.
    func writeLocal(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, close: Bool) {
        guard !responseHeadSent else {
            context.close(promise: nil)
            return
        }
        cancelTimer()
        pendingParts.removeAll()
        heldParts.removeAll()
        heldBytes = 0
        var headers = headers
        headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        let closing = close || !keepAlive
        if closing { headers.replaceOrAdd(name: "Connection", value: "close") }
        let version = head?.version ?? .http1_1
        responseStatus = status.code
        responseHeadSent = true
        phase = .answered
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        // When the request is complete the exchange ends before `.end` is written: writing it may
        // deliver the next pipelined request into this handler at once. Otherwise the rest of
        // the request body is read and dropped first (phase `.answered`).
        if requestEnded || closing { completeLocalAnswer() }
        let promise: EventLoopPromise<Void>? = closing ? context.eventLoop.makePromise() : nil
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        if let promise {
            let context = self.context!
            promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        resumeClientReads()
    }

    /// The local answer is out and the request fully read: the connection may take the next one.
    func completeLocalAnswer() {
        finishExchange(logged: true)
    }

    /// Ends the current exchange: logs it and resets the per-request state.
    func finishExchange(logged: Bool) {
        guard phase != .idle else { return }
        if logged {
            if env.settings.accessLog { logAccess() }
            env.metrics.exchangeFinished(route: route?.name, status: responseStatus, upstreamNanoseconds: upstreamNanoseconds)
        }
        env.exchangeEnded()
        phase = .idle
        route = nil
        session = nil
        cookieURL = nil
        upstreamRequestHead = nil
        pendingParts.removeAll(keepingCapacity: true)
        heldParts.removeAll(keepingCapacity: true)
        heldBytes = 0
        instanceOrder = []
        upstreamStartedAt = nil
        upstreamHeadAt = nil
        clientToken = nil
        if context.channel.isActive { armHeadTimer() }
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

    /// From the request going out to the backend's response head, as the access log shows it.
    private var upstreamNanoseconds: Int64? {
        guard let start = upstreamStartedAt, let end = upstreamHeadAt else { return nil }
        return (end - start).nanoseconds
    }

    private static func millis(_ t: TimeAmount) -> String {
        let micros = t.nanoseconds / 1_000
        let frac = String(micros % 1_000)
        return "\(micros / 1_000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
