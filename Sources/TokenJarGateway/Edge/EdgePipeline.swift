import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL

/// How each accepted connection's pipeline is built: plain HTTP/1.1, or TLS with HTTP/2 or
/// HTTP/1.1 chosen by ALPN. Every HTTP/2 stream gets its own `ProxyHandler` behind an
/// HTTP/2-to-HTTP/1 codec, so the data plane is the same whatever the client speaks.
struct EdgePipeline: Sendable {
    let env: GatewayEnvironment
    let decoderLimits: NIOHTTPDecoderLimitConfiguration
    /// The listener's certificate, when it serves HTTPS.
    let tls: ReloadableTLSContext?
    let maxHeaderBytes: Int
    /// Concurrent streams one HTTP/2 client may open.
    var maxConcurrentStreams = 100

    /// Called on the connection's loop from the child channel initializer.
    func configure(_ channel: any Channel, pool: UpstreamPool) throws {
        let pipeline = channel.pipeline.syncOperations
        guard let context = tls?.current else {
            return try addHTTP1(to: channel, pool: pool)
        }
        // Until a protocol is chosen, nothing else bounds a silent or slow handshake.
        let idle = EdgeIdleTimer(channel: channel, timeout: env.headerReadTimeout)
        try pipeline.addHandler(NIOSSLServerHandler(context: context))
        let pools = NIOLoopBound(pool, eventLoop: channel.eventLoop)
        let edge = self
        _ = channel.configureHTTP2SecureUpgrade(
            h2ChannelConfigurator: { channel in
                channel.eventLoop.makeCompletedFuture {
                    try edge.addHTTP2(to: channel, pool: pools.value, idle: idle)
                }
            },
            http1ChannelConfigurator: { channel in
                idle.stop()
                return channel.eventLoop.makeCompletedFuture {
                    try edge.addHTTP1(to: channel, pool: pools.value)
                }
            })
        idle.start()
    }

    /// HTTP/1.1: NIO's request decoder and pipelining assistance, the gateway's response encoder
    /// (NIO's bytes, the head in one pass), then the proxy. NIO's outbound header validator is
    /// left out: every head the proxy writes is checked where its parts enter (`WireSafety`). So
    /// is NIO's protocol error handler, a handler hop in both directions for every message: the
    /// proxy answers a request the parser refuses with the same 400 — except in front of the
    /// gzip handlers, whose compressor expects a request head for every response, so that there
    /// NIO's handler stays and answers before them. `ClientReadAhead` goes in front of the
    /// decoder, behind TLS when there is TLS.
    func addHTTP1(to channel: any Channel, pool: UpstreamPool) throws {
        let pipeline = channel.pipeline.syncOperations
        let gzip = env.routes.routes.contains(where: \.gzip)
        try pipeline.addHandler(ClientReadAhead())
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(
            leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop, limitConfiguration: decoderLimits)))
        try pipeline.addHandler(ClientResponseEncoder())
        try pipeline.addHandler(HTTPServerPipelineHandler())
        if gzip { try pipeline.addHandler(HTTPServerProtocolErrorHandler()) }
        try addProxy(to: pipeline, pool: pool, gzip: gzip, answersParseErrors: !gzip)
    }

    /// HTTP/2: one stream per request, each with its own HTTP/1 view and proxy handler. The
    /// connection closes once it has had no open stream for the header read timeout.
    func addHTTP2(to channel: any Channel, pool: UpstreamPool, idle: EdgeIdleTimer) throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: maxHeaderBytes),
        ]
        let edge = self
        let pools = NIOLoopBound(pool, eventLoop: channel.eventLoop)
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: .init(),
            streamDelegate: idle
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                let pipeline = stream.pipeline.syncOperations
                try pipeline.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try edge.addProxy(to: pipeline, pool: pools.value, gzip: edge.env.routes.routes.contains(where: \.gzip))
            }
        }
    }

    /// The proxy handler, with the gzip compressor in front when a route asks for it.
    private func addProxy(
        to pipeline: ChannelPipeline.SynchronousOperations, pool: UpstreamPool, gzip: Bool, answersParseErrors: Bool = false
    ) throws {
        if gzip {
            try ResponseGzip.addHandlers(to: pipeline, env: env)
        }
        try pipeline.addHandler(ProxyHandler(env: env, pool: pool, answersParseErrors: answersParseErrors))
    }
}

/// Closes a TLS connection that is idle: while the handshake and protocol choice are pending,
/// and for HTTP/2 while no stream is open. (HTTP/1.1 connections are timed by `ProxyHandler`.)
final class EdgeIdleTimer: NIOHTTP2StreamDelegate {
    private struct State {
        var openStreams = 0
        var timer: Scheduled<Void>?
        var stopped = false
    }

    private let channel: any Channel
    private let timeout: TimeAmount
    private let state: NIOLoopBoundBox<State>

    init(channel: any Channel, timeout: TimeAmount) {
        self.channel = channel
        self.timeout = timeout
        self.state = NIOLoopBoundBox(State(), eventLoop: channel.eventLoop)
    }

    /// Starts (or restarts) the wait.
    func start() {
        guard !state.value.stopped else { return }
        state.value.timer?.cancel()
        let channel = self.channel
        state.value.timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    /// Hands the connection over to another timer for good.
    func stop() {
        state.value.stopped = true
        state.value.timer?.cancel()
        state.value.timer = nil
    }

    func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
        state.value.openStreams += 1
        state.value.timer?.cancel()
        state.value.timer = nil
    }

    func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
        state.value.openStreams -= 1
        if state.value.openStreams == 0 { start() }
    }
}
