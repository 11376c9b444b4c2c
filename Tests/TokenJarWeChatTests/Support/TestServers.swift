import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import TokenJarGateway
import TokenJarStore

/// A gateway served in-process on 127.0.0.1 port 0, stopped as on SIGTERM.
final class RunningGateway: Sendable {
    let serviceGroup: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    static func start(
        routes: [RouteSpec], store: any SessionStore, logger: Logger, endpoints: (any GatewayEndpoints)?
    ) async throws -> RunningGateway {
        var options = GatewayOptions(host: "127.0.0.1", port: 0, eventLoops: 2, routes: RouteTable(routes: routes))
        options.proxy.accessLog = true
        let server = GatewayServer(options: options, store: store, logger: logger, endpoints: endpoints)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let task = Task { try await group.run() }
        let address = try await server.localAddress
        return RunningGateway(serviceGroup: group, task: task, port: address.port!)
    }

    private init(serviceGroup: ServiceGroup, task: Task<Void, any Error>, port: Int) {
        self.serviceGroup = serviceGroup
        self.task = task
        self.port = port
    }

    func stop() async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await task.value
    }
}

/// A request as the backend received it.
struct ReceivedRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
}

/// An in-process backend on loopback that records every request and answers `ok`, setting a
/// `JSESSIONID` cookie on `/start`.
final class TestBackend: Sendable {
    let channel: any Channel
    private let received: NIOLockedValueBox<[ReceivedRequest]>

    var port: Int { channel.localAddress!.port! }
    var requests: [ReceivedRequest] { received.withLockedValue { $0 } }

    static func start() async throws -> TestBackend {
        let box = NIOLockedValueBox<[ReceivedRequest]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(record: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestBackend(channel: channel, received: box)
    }

    private init(channel: any Channel, received: NIOLockedValueBox<[ReceivedRequest]>) {
        self.channel = channel
        self.received = received
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let record: NIOLockedValueBox<[ReceivedRequest]>
    var head: HTTPRequestHead?

    init(record: NIOLockedValueBox<[ReceivedRequest]>) { self.record = record }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            record.withLockedValue { $0.append(ReceivedRequest(method: head.method, uri: head.uri, headers: head.headers)) }
            var headers = HTTPHeaders()
            if head.uri == "/start" { headers.add(name: "Set-Cookie", value: "JSESSIONID=j1; Path=/") }
            headers.add(name: "Content-Length", value: "2")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}

/// A response as a test client saw it.
struct ClientResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: String
}

/// A minimal HTTP/1.1 client: one connection per request and no cookies, like `wx.request`.
enum TestHTTPClient {
    static func request(
        port: Int, method: HTTPMethod, path: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> ClientResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.any().makePromise(of: ClientResponse.self)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(CollectingHandler(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        var h = HTTPHeaders()
        h.add(name: "Host", value: "127.0.0.1:\(port)")
        for (n, v) in headers { h.add(name: n, value: v) }
        if let body { h.add(name: "Content-Length", value: String(body.utf8.count)) }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: h)), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }
}

private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<ClientResponse>
    var head: HTTPResponseHead?
    var body = ""

    init(promise: EventLoopPromise<ClientResponse>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body(let b): body += String(buffer: b)
        case .end:
            if let head { promise.succeed(ClientResponse(status: head.status, headers: head.headers, body: body)) }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) { promise.fail(ChannelError.eof) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
