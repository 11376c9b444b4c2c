import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What a proxied exchange hears from its upstream connection. Called on the connection's loop.
protocol UpstreamDelegate: AnyObject {
    func upstreamRead(_ part: HTTPClientResponsePart)
    func upstreamWritabilityChanged(isWritable: Bool)
    func upstreamClosed(error: (any Error)?)
}

/// The handler at the end of an upstream channel's pipeline: reads the backend's responses
/// (`HTTP1ResponseParser`), hands their parts to the exchange that currently owns the
/// connection, and lets that exchange pause reads.
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    weak var delegate: (any UpstreamDelegate)?
    /// The pool's list this connection waits in while idle; it leaves the list if it closes there.
    var idleIn: UpstreamPool.IdleList?
    private var readPaused = false
    private var readPending = false
    private var context: ChannelHandlerContext?
    private var parser = HTTP1ResponseParser()
    /// Bytes of a head or chunk line that has not fully arrived.
    private var unparsed: ByteBuffer?
    /// Set once the connection failed or stopped being HTTP: nothing more is parsed.
    private var stopped = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Whether the connection may be reused after the response whose head came last.
    var responseKeepAlive: Bool { parser.keepAlive }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !stopped else { return }
        if var held = unparsed {
            unparsed = nil
            held.writeBuffer(&bytes)
            bytes = held
        }
        do {
            while let part = try parser.next(&bytes) {
                deliver(part, context: context)
                if stopped { return }
            }
        } catch {
            return fail(error, context: context)
        }
        if parser.state == .upgraded {
            // A 101 ended the HTTP exchange; the connection cannot carry another request.
            stopped = true
            context.close(promise: nil)
        } else if bytes.readableBytes > 0 {
            unparsed = bytes
        }
    }

    private func deliver(_ part: HTTPClientResponsePart, context: ChannelHandlerContext) {
        if let delegate {
            delegate.upstreamRead(part)
        } else {
            // Bytes on an idle connection: the backend is confused; never reuse it.
            stopped = true
            context.close(promise: nil)
        }
    }

    private func fail(_ error: HTTPParserError, context: ChannelHandlerContext) {
        stopped = true
        unparsed = nil
        errorCaught(context: context, error: error)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !stopped {
            // The end of a body that runs to the close, or a response cut short.
            stopped = true
            do {
                if let part = try parser.finish(buffered: (unparsed?.readableBytes ?? 0) > 0) {
                    deliver(part, context: context)
                }
            } catch {
                errorCaught(context: context, error: error)
            }
            unparsed = nil
        }
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamClosed(error: nil)
        if let list = idleIn {
            idleIn = nil
            list.connections.removeAll { $0.handler === self }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamClosed(error: error)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Writes a request part from this handler's place, the pipeline's end. Wrapped here, the
    /// part is boxed by code specialized for its type; the channel's generic `write` boxes it
    /// through runtime casts.
    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        guard let context else { return }  // removed: the channel is closed
        if case .head(let head) = part { parser.answersHEAD = head.method == .HEAD }
        context.write(wrapOutboundOut(part), promise: nil)
        if flush { context.flush() }
    }

    /// Stops reading from the backend (the client is not keeping up, or a commit is pending).
    func pauseReading() { readPaused = true }

    /// Resumes reading and issues a read that was held back.
    func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }
}

/// A keep-alive connection to one backend instance.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let upstream: Upstream
    /// The pool's idle list for `upstream`: released connections go back to it without a lookup.
    let idleList: UpstreamPool.IdleList
    /// Whether the connection has carried a request before (a stale keep-alive may fail).
    var reused = false

    init(channel: any Channel, handler: UpstreamHandler, upstream: Upstream, idleList: UpstreamPool.IdleList) {
        self.channel = channel
        self.handler = handler
        self.upstream = upstream
        self.idleList = idleList
    }

    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        handler.write(part, flush: flush)
    }
}

/// Keep-alive connections to backends, owned by one event loop and only touched on it: no
/// locks on the hot path.
final class UpstreamPool {
    /// The idle connections to one instance, most recently released last. Found by hash once per
    /// acquire; a connection keeps a reference to its list, so a release needs no lookup.
    final class IdleList {
        var connections: [UpstreamConnection] = []
    }

    let loop: any EventLoop
    private var idle: [Upstream: IdleList] = [:]
    private let maxIdlePerUpstream: Int
    private var closed = false
    /// The client context for `https://` upstreams.
    private let tls: ReloadableTLSContext
    private let logger: Logger?

    init(
        loop: any EventLoop, maxIdlePerUpstream: Int = 128, tls: ReloadableTLSContext = ReloadableTLSContext(nil),
        logger: Logger? = nil
    ) {
        self.loop = loop
        self.maxIdlePerUpstream = maxIdlePerUpstream
        self.tls = tls
        self.logger = logger
    }

    /// An idle connection to `upstream`, or a new one.
    func acquire(_ upstream: Upstream, connectTimeout: TimeAmount, fresh: Bool = false) -> EventLoopFuture<UpstreamConnection> {
        loop.preconditionInEventLoop()
        if !fresh, let list = idle[upstream] {
            while let conn = list.connections.popLast() {
                conn.handler.idleIn = nil
                if conn.channel.isActive {
                    conn.reused = true
                    return loop.assumeIsolated().makeSucceededFuture(conn)
                }
            }
        }
        return connect(upstream, timeout: connectTimeout)
    }

    /// Returns a connection whose exchange completed cleanly and that may be reused.
    func release(_ conn: UpstreamConnection) {
        loop.preconditionInEventLoop()
        conn.handler.delegate = nil
        conn.handler.resumeReading()
        let list = conn.idleList
        guard !closed, conn.channel.isActive, list.connections.count < maxIdlePerUpstream else {
            conn.channel.close(promise: nil)
            return
        }
        conn.handler.idleIn = list
        list.connections.append(conn)
    }

    /// The idle list for `upstream`, made on first use.
    private func idleList(for upstream: Upstream) -> IdleList {
        if let list = idle[upstream] { return list }
        let list = IdleList()
        idle[upstream] = list
        return list
    }

    /// Closes every idle connection; later releases close their connection.
    func closeAll() {
        closed = true
        let all = idle.values.flatMap(\.connections)
        for list in idle.values { list.connections.removeAll() }
        for conn in all {
            conn.handler.idleIn = nil
            conn.channel.close(promise: nil)
        }
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.connections.count } }

    private func connect(_ upstream: Upstream, timeout: TimeAmount) -> EventLoopFuture<UpstreamConnection> {
        let tlsContext = upstream.isTLS ? tls.current : nil
        if upstream.isTLS && tlsContext == nil {
            return loop.makeFailedFuture(TLSSetupError("no TLS context for \(upstream)"))
        }
        let logger = self.logger
        let list = NIOLoopBound(idleList(for: upstream), eventLoop: loop)
        return ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try UpstreamTLSHandshake.add(to: channel, context: tlsContext, upstream: upstream, logger: logger)
                    }
                    // The gateway's request encoder (NIO's bytes, the head in one pass) and the
                    // handler that parses responses itself. No outbound header validator: the
                    // request heads are checked where their parts enter the gateway (`WireSafety`).
                    try channel.pipeline.syncOperations.addHandlers(UpstreamRequestEncoder(), UpstreamHandler())
                }
            }
            .connect(host: upstream.host, port: upstream.port)
            .flatMap { UpstreamTLSHandshake.connected($0, timeout: timeout) }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                return UpstreamConnection(channel: channel, handler: handler, upstream: upstream, idleList: list.value)
            }
    }
}
