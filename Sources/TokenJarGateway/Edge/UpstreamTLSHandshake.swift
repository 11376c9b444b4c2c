import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Makes an `https://` upstream connection count as connected only once its TLS handshake is
/// done: a refused certificate is then a failed connect (logged with the reason, next instance
/// tried, 502 at the end) rather than a broken exchange.
final class UpstreamTLSHandshake: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    /// Succeeds when the handshake is done; fails with the reason it was not.
    let done: EventLoopPromise<Void>
    private var finished = false
    private let upstream: Upstream
    private let logger: Logger?

    init(done: EventLoopPromise<Void>, upstream: Upstream, logger: Logger?) {
        self.done = done
        self.upstream = upstream
        self.logger = logger
    }

    /// Adds the TLS client handler (SNI and certificate check on the upstream host; an IP
    /// address is checked but not sent as SNI) and this waiter to a new upstream channel.
    static func add(to channel: any Channel, context: NIOSSLContext, upstream: Upstream, logger: Logger?) throws {
        let name = upstream.host.isIPAddressLiteral ? nil : upstream.host
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(try NIOSSLClientHandler(context: context, serverHostname: name))
        try pipeline.addHandler(
            UpstreamTLSHandshake(done: channel.eventLoop.makePromise(), upstream: upstream, logger: logger))
    }

    /// The channel once its handshake is done (at once for a channel without TLS); a handshake
    /// not done within `timeout` closes the channel and fails.
    static func connected(_ channel: any Channel, timeout: TimeAmount) -> EventLoopFuture<any Channel> {
        guard let waiter = try? channel.pipeline.syncOperations.handler(type: UpstreamTLSHandshake.self) else {
            return channel.eventLoop.makeSucceededFuture(channel)
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        return waiter.done.futureResult.map {
            timer.cancel()
            return channel
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !finished {
            finished = true
            done.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else { return context.fireErrorCaught(error) }
        finished = true
        logger?.warning("upstream TLS handshake failed", metadata: ["upstream": "\(upstream)", "error": "\(error)"])
        done.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            done.fail(ChannelError.ioOnClosedChannel)
        }
        context.fireChannelInactive()
    }
}

extension String {
    /// `127.0.0.1`, `::1`: an address rather than a name.
    var isIPAddressLiteral: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
