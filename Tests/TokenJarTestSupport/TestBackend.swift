import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A request as the backend received it.
public struct ReceivedRequest: Sendable {
    public var method: HTTPMethod
    public var uri: String
    public var headers: HTTPHeaders
    public var body: String
}

/// What the test backend answers.
public struct BackendResponse: Sendable {
    public var status: HTTPResponseStatus = .ok
    public var headers: [(String, String)] = []
    public var body: String = "ok"
    /// Wait this long before the head.
    public var delay: TimeAmount = .zero
    /// Send the head and part of the body, then reset the connection.
    public var resetMidBody = false
    /// Send the head and part of the body, then nothing more (the connection stays open).
    public var stallMidBody = false

    public init(
        status: HTTPResponseStatus = .ok, headers: [(String, String)] = [], body: String = "ok",
        delay: TimeAmount = .zero, resetMidBody: Bool = false, stallMidBody: Bool = false
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
        self.resetMidBody = resetMidBody
        self.stallMidBody = stallMidBody
    }
}

/// An in-process HTTP backend on loopback, port 0, that records every request and answers
/// through a closure.
public final class TestBackend: Sendable {
    public let channel: any Channel
    private let received: NIOLockedValueBox<[ReceivedRequest]>

    public var port: Int { channel.localAddress!.port! }
    public var requests: [ReceivedRequest] { received.withLockedValue { $0 } }

    /// With `tls`, the backend speaks HTTPS with that server context.
    public static func start(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: NIOSSLContext? = nil,
        _ respond: @escaping @Sendable (ReceivedRequest) -> BackendResponse
    ) async throws -> TestBackend {
        let box = NIOLockedValueBox<[ReceivedRequest]>([])
        let children = NIOLockedValueBox<[any Channel]>([])
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                children.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(record: box, respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestBackend(channel: channel, received: box, children: children)
    }

    private let children: NIOLockedValueBox<[any Channel]>

    private init(channel: any Channel, received: NIOLockedValueBox<[ReceivedRequest]>, children: NIOLockedValueBox<[any Channel]>) {
        self.channel = channel
        self.received = received
        self.children = children
    }

    /// Stops listening and closes every accepted connection, as a dying backend would.
    public func stop() async {
        try? await channel.close()
        for child in children.withLockedValue({ $0 }) { try? await child.close() }
    }
}

private final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let record: NIOLockedValueBox<[ReceivedRequest]>
    let respond: @Sendable (ReceivedRequest) -> BackendResponse
    var head: HTTPRequestHead?
    var body = ""

    init(record: NIOLockedValueBox<[ReceivedRequest]>, respond: @escaping @Sendable (ReceivedRequest) -> BackendResponse) {
        self.record = record
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = ""
        case .body(let b):
            body += String(buffer: b)
        case .end:
            guard let head else { return }
            let request = ReceivedRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
            record.withLockedValue { $0.append(request) }
            let response = respond(request)
            let version = head.version
            let send = {
                var headers = HTTPHeaders()
                for (n, v) in response.headers { headers.add(name: n, value: v) }
                if response.resetMidBody || response.stallMidBody {
                    headers.add(name: "Content-Length", value: String(response.body.utf8.count * 4))
                } else {
                    headers.add(name: "Content-Length", value: String(response.body.utf8.count))
                }
                context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
                if response.stallMidBody { return }
                if response.resetMidBody {
                    context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(20)) {
                        context.close(promise: nil)
                    }
                    return
                }
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
            if response.delay > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: response.delay) { send() }
            } else {
                send()
            }
            self.head = nil
        }
    }
}
