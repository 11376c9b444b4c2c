import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Testing
@testable import TokenJarGateway

/// HTTP/2 lets a client put bytes in a field value that HTTP/1.1's parser would refuse
/// (swift-nio-http2 refuses only CR, LF and NUL). With no outbound validator on the upstream
/// pipeline, the gateway itself must keep such a head from reaching a backend.
@Suite("HTTP/2 heads the backend must not see", .enabled(if: TestCertificateAuthority.available || External.required))
struct HTTP2HeaderTests {
    @Test("a control byte in a value, or a target that must be percent-encoded: 400, never forwarded; a clean head passes",
          arguments: [
              ("x-bad", "a\u{1}b", "/clean", false),
              ("x-bad", "a\u{7F}b", "/clean", false),
              ("x-ok", "1", "/a%7Bb%7D", true),
              ("x-ok", "1", "/a{b}", false),
              ("x-ok", "tab\there \"quoted\" é", "/clean", true),
          ])
    func refusedOrPassed(_ name: String, _ value: String, _ path: String, _ passes: Bool) async throws {
        let directory = try External.temporaryDirectory("edge-h2-heads")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try TestCertificateAuthority.make(in: directory)
        let leaf = try ca.issue("server", serial: 31)
        let backend = try await TestBackend.start(group: testGroup) { _ in BackendResponse(body: "ok") }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])]) {
            $0.tls = TLSCertificateFiles(certificateChain: leaf.certificate, privateKey: leaf.key)
        }
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        let status = try await RawHTTP2Client.get(port: gateway.port, ca: ca.certificate, path: path, headers: [(name, value)])
        if passes {
            #expect(status == .ok)
            #expect(backend.requests.count == 1)
            #expect(backend.requests.first?.headers.first(name: name) == value)
        } else {
            #expect(status == .badRequest)
            #expect(backend.requests.isEmpty, "the head reached the backend")
        }
    }
}

/// One HTTP/2 GET over TLS, with swift-nio-http2's own header checks off on the client side so
/// that it sends exactly what it is given.
enum RawHTTP2Client {
    static func get(port: Int, ca: String, path: String, headers: [(String, String)]) async throws -> HTTPResponseStatus {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        let multiplexer = NIOLockedValueBox<NIOHTTP2Handler.StreamMultiplexer?>(nil)
        let channel = try await ClientBootstrap(group: testGroup)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    var connection = NIOHTTP2Handler.ConnectionConfiguration()
                    connection.headerBlockValidation = .disabled
                    let mux = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: connection, streamConfiguration: .init()
                    ) { $0.eventLoop.makeSucceededVoidFuture() }
                    multiplexer.withLockedValue { $0 = mux }
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        defer { channel.close(promise: nil) }
        let mux = try #require(multiplexer.withLockedValue { $0 })
        let status = channel.eventLoop.makePromise(of: HTTPResponseStatus.self)
        let stream = try await mux.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
                try stream.pipeline.syncOperations.addHandler(StatusOnly(promise: status))
            }
        }.get()
        var fields = HTTPHeaders([("host", "localhost")])
        for (name, value) in headers { fields.add(name: name, value: value) }
        stream.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: fields)), promise: nil)
        stream.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { status.fail(ChannelError.connectTimeout(.seconds(10))) }
        defer { timeout.cancel() }
        return try await status.futureResult.get()
    }

    private final class StatusOnly: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<HTTPResponseStatus>
        init(promise: EventLoopPromise<HTTPResponseStatus>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let head) = unwrapInboundIn(data) { promise.succeed(head.status) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
        }
    }
}
