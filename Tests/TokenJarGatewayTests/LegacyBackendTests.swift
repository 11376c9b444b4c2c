import NIOCore
import NIOPosix
import Testing
import TokenJarTestSupport
@testable import TokenJarGateway

/// A backend that answers every request with the same raw bytes and keeps the connection open:
/// old servers that speak HTTP/1.0.
final class RawAnswerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let answer: String
    init(answer: String) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        // One answer per request head seen in this read.
        let requests = String(buffer: bytes).components(separatedBy: "\r\n\r\n").count - 1
        for _ in 0..<max(requests, 0) {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(string: answer)), promise: nil)
        }
        context.flush()
    }
}

@Suite("Backends that answer in HTTP/1.0")
struct LegacyBackendTests {
    @Test("an HTTP/1.0 answer ends its exchange: the client's keep-alive connection takes the next request")
    func http10AnswerKeepsClientConnection() async throws {
        let answer = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nSet-Cookie: old=1; Path=/\r\n\r\nabc"
        let backend = try await ServerBootstrap(group: testGroup)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawAnswerHandler(answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = backend.localAddress!.port!
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(port)])])
        defer { Task { try? await gateway.stop(); try? await backend.close() } }

        let raw = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port,
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            timeout: .seconds(5))
        let answers = raw.components(separatedBy: "HTTP/1.1 200 OK").count - 1
        #expect(answers == 2, "both requests answered on one connection:\n\(raw)")
        #expect(raw.hasSuffix("abc"))
    }
}
