import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as a test client saw it.
public struct ClientResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: String

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A minimal HTTP/1.1 client for tests: one connection per request, no cookie handling at
/// all (like `wx.request`), so only the token header carries state.
public enum TestHTTPClient {
    public static func request(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, port: Int, method: HTTPMethod = .GET, path: String,
        headers: [(String, String)] = [], body: String? = nil
    ) async throws -> ClientResponse {
        let promise = group.any().makePromise(of: ClientResponse.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(CollectingHandler(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .get()
        } catch {
            promise.fail(error)
            throw error
        }
        var h = HTTPHeaders()
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { h.add(name: "Host", value: "127.0.0.1:\(port)") }
        for (n, v) in headers { h.add(name: n, value: v) }
        if let body { h.add(name: "Content-Length", value: String(body.utf8.count)) }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: h)), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    /// Sends raw bytes and returns whatever the server answers until it closes or `timeout`.
    public static func raw(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, port: Int, _ bytes: String, timeout: TimeAmount = .seconds(2)) async throws -> String {
        let promise = group.any().makePromise(of: String.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RawCollector(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .get()
        } catch {
            promise.fail(error)
            throw error
        }
        channel.writeAndFlush(ByteBuffer(string: bytes), promise: nil)
        channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
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

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

private final class RawCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<String>
    var text = ""

    init(promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        text += String(buffer: unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) { promise.succeed(text) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(text)
        context.close(promise: nil)
    }
}
