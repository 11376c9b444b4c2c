import NIOCore
import Testing
@testable import TokenJarGateway

@Suite("Backends that answer in HTTP/1.0")
struct LegacyBackendTests {
    @Test("an HTTP/1.0 answer ends its exchange: the client's keep-alive connection takes the next request")
    func http10AnswerKeepsClientConnection() async throws {
        // The backend keeps its connection open after answering, as old servers may.
        let backend = try await RawBackend.start { _ in
            Array("HTTP/1.0 200 OK\r\nContent-Length: 3\r\nSet-Cookie: old=1; Path=/\r\n\r\nabc".utf8)
        }
        let gateway = try await RunningGateway.start(routes: [RouteSpec(upstreams: [upstream(backend.port)])])
        defer { Task { try? await gateway.stop(); await backend.stop() } }

        let raw = try await TestHTTPClient.raw(
            group: testGroup, port: gateway.port,
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            timeout: .seconds(5))
        let answers = raw.components(separatedBy: "HTTP/1.1 200 OK").count - 1
        #expect(answers == 2, "both requests answered on one connection:\n\(raw)")
        #expect(raw.hasSuffix("abc"))
        #expect(backend.requestCount == 2)
    }
}
