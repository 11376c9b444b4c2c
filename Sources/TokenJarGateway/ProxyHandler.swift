import CookieEngine
import Logging
import NIOCore
import NIOHTTP1
import TokenJarStore

/// The data plane for one client connection: resolves the session, forwards the request to a
/// backend instance, applies the response's cookies to the jar, holds the response head until
/// the jar update is durable, and streams bodies both ways with backpressure.
///
/// All state lives on the connection's event loop; upstream connections come from the same
/// loop's pool, so nothing here takes a lock or hops threads.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Phase {
        /// Waiting for a request head.
        case idle
        /// Head received; finding the session or connecting to the backend.
        case preparing
        /// Request head sent to the backend; waiting for its response head.
        case forwarding
        /// Response head received; holding it until the jar write commits.
        case committing
        /// Response head sent; streaming the response body.
        case streaming
        /// The gateway answered itself; the rest of the request body is discarded.
        case answered
        /// A request for one of the gateway's own endpoints; its body is being collected.
        case endpoint
    }

    let env: GatewayEnvironment
    let pool: UpstreamPool
    /// Whether a request the parser refuses is answered here (HTTP/1.1 without NIO's protocol
    /// error handler in the pipeline).
    let answersParseErrors: Bool
    var context: ChannelHandlerContext!
    var clientAddress: String?

    // The current exchange.
    var phase: Phase = .idle
    var generation = 0
    var head: HTTPRequestHead!
    var route: RouteSpec?
    var session: ActiveSession?
    var cookieURL: CookieURL?
    var keepAlive = true
    var requestEnded = false
    var bodyBytes = 0
    var pendingParts: [HTTPClientRequestPart] = []
    var upstream: UpstreamConnection?
    var upstreamRequestHead: HTTPRequestHead?
    var clientToken: String?
    /// Closes a connection that sends no complete request head in time (slowloris, idle keep-alive).
    /// Scheduled at most once per timeout period, not once per request: it checks
    /// `headDeadline` when it fires and waits again if that moved.
    var headTimer: Scheduled<Void>?
    /// When the wait for the next request head ends; nil while an exchange runs.
    var headDeadline: NIODeadline?
    var instanceOrder: [Int] = []
    var attempt = 0
    var staleRetries = 0
    var responseHeadSent = false
    var heldParts: [HTTPClientResponsePart] = []
    /// Body bytes in `heldParts`; over `heldBytesLimit` the backend's reads pause.
    var heldBytes = 0
    /// How much of a response body is buffered while its jar write commits before the backend
    /// is read no further. Below it the backend's socket stays registered for reading: pausing
    /// and resuming would cost two `epoll_ctl` calls per response.
    static let heldBytesLimit = 64 * 1024
    /// The backend closed mid-body while the jar write was pending: abort once it commits.
    var truncatedWhileCommitting = false
    var responseStatus: UInt = 0
    var upstreamKeepAlive = true
    var startedAt: NIODeadline = .now()
    var upstreamStartedAt: NIODeadline?
    var upstreamHeadAt: NIODeadline?
    var deadline: NIODeadline?
    var timer: Scheduled<Void>?
    var timerFiresAt: NIODeadline?

    // Reads from the client, paused for backpressure.
    var readPaused = false
    var readPending = false

    /// Largest request body a gateway endpoint accepts.
    static let maxEndpointBody = 64 * 1024
    var endpointBody = ByteBuffer()

    init(env: GatewayEnvironment, pool: UpstreamPool, answersParseErrors: Bool = false) {
        self.env = env
        self.pool = pool
        self.answersParseErrors = answersParseErrors
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.ipAddress
        armHeadTimer()
    }

    /// Starts the wait for the next request head.
    func armHeadTimer() {
        headDeadline = .now() + env.headerReadTimeout
        if headTimer == nil { scheduleHeadTimer(in: env.headerReadTimeout) }
    }

    private func scheduleHeadTimer(in amount: TimeAmount) {
        headTimer = context.eventLoop.assumeIsolated().scheduleTask(in: amount) {
            self.headTimer = nil
            guard self.phase == .idle, let deadline = self.headDeadline else { return }
            let now = NIODeadline.now()
            if now < deadline { return self.scheduleHeadTimer(in: deadline - now) }
            self.context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        headTimer?.cancel()
        headTimer = nil
        headDeadline = nil
        timer?.cancel()
        timer = nil
        if phase != .idle { abortUpstream() }
        finishExchange(logged: false)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { upstream?.handler.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if readPaused { readPending = true } else { context.read() }
    }

    func pauseClientReads() { readPaused = true }

    func resumeClientReads() {
        guard readPaused else { return }
        readPaused = false
        if readPending {
            readPending = false
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed request gets 400 and the connection closes, unless a response is under way
        // (its head is out, its end is not): what NIO's protocol error handler writes, from here
        // or from that handler when it sits in front. The pipelining helper delivers the error
        // only once the responses before it are complete.
        if answersParseErrors, error is HTTPParserError, phase != .streaming {
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        // Whatever the error, the exchange and the connection end here.
        abortUpstream()
        if phase != .idle { finishExchange(logged: false) }
        context.close(promise: nil)
    }

    // MARK: request side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            startExchange(head)
        case .body(var buffer):
            bodyBytes += buffer.readableBytes
            if phase == .endpoint {
                guard bodyBytes <= Self.maxEndpointBody else { return respondLocally(.bodyTooLarge, close: true) }
                endpointBody.writeBuffer(&buffer)
                return
            }
            if let route, bodyBytes > route.maxBodyBytes, phase != .answered {
                bodyTooLarge()
                return
            }
            forwardRequestPart(.body(.byteBuffer(buffer)))
        case .end(let trailers):
            requestEnded = true
            if phase == .endpoint { return dispatchEndpoint() }
            // Trailers that could not be written as they are (only HTTP/2 can carry such) are dropped.
            forwardRequestPart(.end(trailers.flatMap { WireSafety.areFields($0) ? $0 : nil }))
        }
    }

    private func startExchange(_ head: HTTPRequestHead) {
        headDeadline = nil
        generation &+= 1
        env.exchangeStarted()
        self.head = head
        phase = .preparing
        startedAt = .now()
        keepAlive = head.isKeepAlive
        requestEnded = false
        bodyBytes = 0
        responseHeadSent = false
        truncatedWhileCommitting = false
        attempt = 0
        staleRetries = 0

        let uri = head.uri
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? Substring(uri)
        guard path.first == "/" else { return respondLocally(.badRequest, close: true) }
        // The target goes upstream as it is, so it is checked here. Names and values of an
        // HTTP/1.1 head were checked by llhttp; an HTTP/2 head is checked in full.
        let forwardable = head.version.major >= 2 ? WireSafety.isForwardable(head) : WireSafety.isRequestTarget(uri)
        guard forwardable else { return respondLocally(.badRequest, close: true) }
        let hostHeader = head.headers.first(name: "host") ?? ""
        let host = Self.hostWithoutPort(hostHeader)

        if RouteSpec.pathHasPrefix(path, env.settings.reservedPrefix) {
            guard env.endpoints != nil else { return respondLocally(.notFound, close: false) }
            phase = .endpoint
            endpointBody = context.channel.allocator.buffer(capacity: 0)
            return
        }
        guard let route = env.routes.route(host: host, path: path) else {
            return respondLocally(.noRoute, close: false)
        }
        self.route = route
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > route.maxBodyBytes {
            return respondLocally(.bodyTooLarge, close: true)
        }

        let nowMicros = env.sessions.clock.nowMicros()
        let now = nowMicros / 1_000_000
        let token = head.headers.first(name: env.tokenHeaderLower)
        clientToken = token
        if let token, SessionToken.isWellFormed(token) || env.settings.adoptClientTokens {
            let hash = SessionToken.hash(token)
            if let cached = env.sessions.cached(hash, now: now) {
                return sessionReady(cached)
            }
            pauseClientReads()
            let generation = self.generation
            env.sessions.load(hash, now: now, on: context.eventLoop).assumeIsolated().whenComplete { result in
                guard generation == self.generation, self.phase == .preparing else { return }
                self.resumeClientReads()
                switch result {
                case .success(let session?): self.sessionReady(session)
                case .success(nil): self.noValidToken(now: now)
                case .failure(let error):
                    self.env.metrics.storeFailed()
                    self.env.logger.error("session load failed", metadata: ["error": "\(error)"])
                    self.respondLocally(.storeUnavailable, close: false)
                }
            }
            return
        }
        noValidToken(now: now)
    }

    private func noValidToken(now: Int64) {
        guard let route, route.mintTokens else { return respondLocally(.tokenRequired, close: false) }
        admitMint(now: now)
    }

    /// Starts the request under a new session, once `admitMint` let it have one.
    func mintSession(now: Int64) {
        if env.settings.adoptClientTokens, let token = clientToken, !token.isEmpty, token.utf8.count <= 256 {
            return sessionReady(env.sessions.mint(now: now, adopting: token))
        }
        sessionReady(env.sessions.mint(now: now))
    }

    private func sessionReady(_ session: ActiveSession) {
        guard let route else { return }
        self.session = session
        if route.requiresLogin && session.identity == nil {
            return respondLocally(.loginRequired, close: !requestEnded)
        }
        var session = session
        let host = head.headers.first(name: "host") ?? route.upstreams[0].host
        var scheme = env.settings.scheme
        if env.settings.trustForwardedProto, let proto = head.headers.first(name: "x-forwarded-proto") {
            scheme = proto.lowercased() == "https" ? "https" : "http"
        }
        let upstream0 = route.upstreams[0]
        let target = route.upstreamTarget(for: head.uri, upstream: upstream0)
        let targetPath = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(target[..<$0]) } ?? target
        let url = CookieURL(isSecure: scheme == "https", host: host, path: targetPath)
        cookieURL = url
        let cookie = env.sessions.cookieHeader(&session, for: url, nowMicros: env.sessions.clock.nowMicros())
        self.session = session

        let identity = session.identity.map { (openID: $0.openID, unionID: $0.unionID) }
        let isChunked = head.headers[canonicalForm: "transfer-encoding"].contains { $0.lowercased() == "chunked" }
        let ctx = ForwardingContext(
            tokenHeader: env.tokenHeaderLower, identityHeaders: env.identityHeadersLower,
            clientAddress: clientAddress, scheme: scheme, host: head.headers.first(name: "host"),
            cookie: cookie, dropClientCookies: route.dropClientCookies, chunkedBody: isChunked,
            identity: identity)
        let headers = RequestRewriter.upstreamHeaders(from: head.headers, ctx)
        let upstreamHead = HTTPRequestHead(version: .http1_1, method: head.method, uri: target, headers: headers)
        upstreamRequestHead = upstreamHead
        pendingParts.insert(.head(upstreamHead), at: 0)
        instanceOrder = route.instanceOrder(for: session.hash)
        connect()
    }

    /// Connects to the next instance in the session's order; fails over on connect errors.
    func connect(fresh: Bool = false) {
        guard let route, attempt < instanceOrder.count else {
            return respondLocally(.upstreamUnreachable, close: !requestEnded)
        }
        let instance = route.upstreams[instanceOrder[attempt]]
        attempt += 1
        pauseClientReads()
        let generation = self.generation
        pool.acquire(instance, connectTimeout: route.connectTimeout, fresh: fresh).assumeIsolated().whenComplete { result in
            guard generation == self.generation, self.phase == .preparing else {
                if case .success(let conn) = result { self.pool.release(conn) }
                return
            }
            switch result {
            case .success(let conn): self.attach(conn, route: route)
            case .failure:
                self.env.logger.warning("backend unreachable", metadata: ["upstream": "\(instance)"])
                self.connect()
            }
        }
    }

    private func attach(_ conn: UpstreamConnection, route: RouteSpec) {
        upstream = conn
        conn.handler.delegate = self
        phase = .forwarding
        upstreamStartedAt = .now()
        // Rewrite the target for this instance's base path.
        if case .head(var h) = pendingParts.first, !conn.upstream.basePath.isEmpty || attempt > 1 {
            h.uri = route.upstreamTarget(for: head.uri, upstream: conn.upstream)
            pendingParts[0] = .head(h)
        }
        for part in pendingParts { conn.write(part, flush: false) }
        pendingParts.removeAll(keepingCapacity: true)
        conn.channel.flush()
        arm(route.responseTimeout)
        if conn.channel.isWritable { resumeClientReads() }
    }

    private func forwardRequestPart(_ part: HTTPClientRequestPart) {
        switch phase {
        case .idle, .answered, .endpoint:
            if case .end = part, phase == .answered { completeLocalAnswer() }
        case .preparing:
            pendingParts.append(part)
            pauseClientReads()
        case .forwarding, .committing, .streaming:
            guard let upstream else { return }
            upstream.write(part, flush: true)
            if !upstream.channel.isWritable { pauseClientReads() }
        }
    }

    private func bodyTooLarge() {
        if responseHeadSent {
            abortUpstream()
            context.close(promise: nil)
        } else {
            abortUpstream()
            respondLocally(.bodyTooLarge, close: true)
        }
    }

    /// The Host header without its port (an IPv6 literal keeps its brackets). Searched over
    /// UTF-8, not characters: a Character search walks grapheme clusters.
    static func hostWithoutPort(_ host: String) -> Substring {
        let h = Substring(host)
        if h.utf8.first == UInt8(ascii: "[") {
            return h.utf8.firstIndex(of: UInt8(ascii: "]")).map { h[...$0] } ?? h
        }
        return h.utf8.firstIndex(of: UInt8(ascii: ":")).map { h[..<$0] } ?? h
    }
}

extension HTTPMethod {
    /// Methods a proxy may send again after a connection failure (RFC 9110 §9.2.2).
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: true
        default: false
        }
    }
}
