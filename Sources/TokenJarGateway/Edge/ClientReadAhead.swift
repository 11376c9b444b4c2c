import NIOCore

/// Keeps an HTTP/1.1 client socket registered for reading while a response is under way.
///
/// NIO's pipelining helper holds back the channel's `read()` from the moment a request arrives
/// until its response ends. The channel then drops its interest in the socket, and takes it up
/// again at the end of the response: two `epoll_ctl` calls for every request, a third of the
/// system calls of a proxied exchange. A keep-alive client sends nothing during that time, so
/// the interest costs nothing to keep.
///
/// This handler sits in front of the HTTP decoder. After each read it asks the pipeline for
/// the next one, as the channel would; when a handler behind it holds that back, it reads on
/// anyway, up to `budget` bytes, and only then lets the socket go. Whatever arrives meanwhile (a
/// pipelined request, body bytes while the backend is not keeping up) is queued behind it as
/// before, so a client can make the gateway buffer at most `budget` bytes beyond what the
/// handlers behind it asked for. The budget starts again whenever they ask for a read.
final class ClientReadAhead: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer

    /// Bytes read since the handlers behind last asked for a read.
    private(set) var unrequestedBytes = 0
    /// Whether a read from the handlers behind passed through since the last check.
    private var asked = false
    let budget: Int

    init(budget: Int = 16 * 1024) {
        self.budget = budget
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unrequestedBytes += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // What the channel does next, asked here so that a held-back read is seen.
        asked = false
        context.channel.read()
        if !asked, unrequestedBytes < budget {
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        asked = true
        unrequestedBytes = 0
        context.read()
    }
}
