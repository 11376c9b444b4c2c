import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A backend that speaks raw bytes: for each request head it receives it writes `answer` as is
/// (malformed on purpose), then closes when `closeAfter` says so. It binds 127.0.0.1 on a free
/// port and counts the request heads it saw.
final class RawBackend: Sendable {
    let channel: any Channel
    private let heads: NIOLockedValueBox<Int>
    private let children: NIOLockedValueBox<[any Channel]>

    var port: Int { channel.localAddress!.port! }
    var requestCount: Int { heads.withLockedValue { $0 } }

    /// `answer` gets the request head's text; `closeAfter` closes (FIN) right after writing.
    static func start(closeAfter: Bool = false, _ answer: @escaping @Sendable (String) -> [UInt8]) async throws -> RawBackend {
        let heads = NIOLockedValueBox(0)
        let children = NIOLockedValueBox<[any Channel]>([])
        let channel = try await ServerBootstrap(group: testGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                children.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RawAnswerHandler(heads: heads, closeAfter: closeAfter, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return RawBackend(channel: channel, heads: heads, children: children)
    }

    private init(channel: any Channel, heads: NIOLockedValueBox<Int>, children: NIOLockedValueBox<[any Channel]>) {
        self.channel = channel
        self.heads = heads
        self.children = children
    }

    func stop() async {
        try? await channel.close()
        for child in children.withLockedValue({ $0 }) { try? await child.close() }
    }
}

private final class RawAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let heads: NIOLockedValueBox<Int>
    let closeAfter: Bool
    let answer: @Sendable (String) -> [UInt8]
    var pending = ""

    init(heads: NIOLockedValueBox<Int>, closeAfter: Bool, answer: @escaping @Sendable (String) -> [UInt8]) {
        self.heads = heads
        self.closeAfter = closeAfter
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += String(buffer: unwrapInboundIn(data))
        while let end = pending.range(of: "\r\n\r\n") {
            let head = String(pending[..<end.upperBound])
            pending = String(pending[end.upperBound...])
            heads.withLockedValue { $0 += 1 }
            let bytes = answer(head)
            let written = context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)))
            if closeAfter {
                let context = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.whenComplete { _ in context.value.close(promise: nil) }
            }
        }
    }
}
