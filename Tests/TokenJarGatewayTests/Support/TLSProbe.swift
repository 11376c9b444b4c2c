import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A keep-alive HTTP/1.1 connection over TLS that records the serial of the server's certificate.
final class TLSProbe: Sendable {
    let channel: any Channel
    private let serialBox: NIOLockedValueBox<[UInt8]>
    private let waiting: NIOLockedValueBox<[EventLoopPromise<HTTPResponseStatus>]>

    var serial: [UInt8] { serialBox.withLockedValue { $0 } }

    static func connect(port: Int, ca: String) async throws -> TLSProbe {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        tls.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: tls)
        let serial = NIOLockedValueBox<[UInt8]>([])
        let waiting = NIOLockedValueBox<[EventLoopPromise<HTTPResponseStatus>]>([])
        let channel = try await ClientBootstrap(group: testGroup)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let verifier = try NIOSSLClientHandler(context: context, serverHostname: "localhost") { chain, result in
                        serial.withLockedValue { $0 = chain.first?.serialNumber ?? [] }
                        result.succeed(.certificateVerified)
                    }
                    try channel.pipeline.syncOperations.addHandler(verifier)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusCollector(waiting: waiting))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return TLSProbe(channel: channel, serial: serial, waiting: waiting)
    }

    private init(channel: any Channel, serial: NIOLockedValueBox<[UInt8]>, waiting: NIOLockedValueBox<[EventLoopPromise<HTTPResponseStatus>]>) {
        self.channel = channel
        self.serialBox = serial
        self.waiting = waiting
    }

    /// One GET on this connection.
    func get(_ path: String) async throws -> HTTPResponseStatus {
        let promise = channel.eventLoop.makePromise(of: HTTPResponseStatus.self)
        waiting.withLockedValue { $0.append(promise) }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { promise.fail(ChannelError.connectTimeout(.seconds(10))) }
        defer { timeout.cancel() }
        return try await promise.futureResult.get()
    }

    func close() { channel.close(promise: nil) }
}

private final class StatusCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let waiting: NIOLockedValueBox<[EventLoopPromise<HTTPResponseStatus>]>
    var status: HTTPResponseStatus?

    init(waiting: NIOLockedValueBox<[EventLoopPromise<HTTPResponseStatus>]>) { self.waiting = waiting }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status
        case .body: break
        case .end:
            let next = waiting.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
            if let status { next?.succeed(status) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for promise in waiting.withLockedValue({ list in defer { list.removeAll() }; return list }) {
            promise.fail(ChannelError.eof)
        }
    }
}
