import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import TokenJarGateway

/// gzip of responses on routes that ask for it.
@Suite("Response gzip", .enabled(if: External.find("gzip") != nil || External.required))
struct GzipTests {
    /// About 10 KiB of JSON.
    static let json = "[" + (0..<120).map { #"{"id":\#($0),"name":"item \#($0)","tags":["a","b","c"],"ok":true}"# }.joined(separator: ",") + "]"

    struct Setup {
        let backend: TestBackend
        let gateway: RunningGateway
        let client: HTTPClient

        func get(_ path: String, acceptEncoding: String?) async throws -> (head: HTTPClientResponse, body: [UInt8]) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(gateway.port)\(path)")
            if let acceptEncoding { request.headers.add(name: "Accept-Encoding", value: acceptEncoding) }
            let response = try await client.execute(request, timeout: .seconds(10))
            var body = try await response.body.collect(upTo: 1 << 20)
            return (response, body.readBytes(length: body.readableBytes) ?? [])
        }

        func stop() async {
            try? await client.shutdown()
            try? await gateway.stop()
            await backend.stop()
        }
    }

    /// Routes: `/z/...` compresses (minimum 1 KiB), everything else does not.
    static func start() async throws -> Setup {
        let backend = try await TestBackend.start(group: testGroup) { request in
            let path = request.uri.hasPrefix("/z/") ? String(request.uri.dropFirst(2)) : request.uri
            switch path {
            case "/json": return BackendResponse(headers: [("Content-Type", "application/json")], body: json)
            case "/encoded":
                return BackendResponse(headers: [("Content-Type", "application/json"), ("Content-Encoding", "br")], body: json)
            case "/tiny": return BackendResponse(headers: [("Content-Type", "application/json")], body: #"{"ok":true}"#)
            case "/image": return BackendResponse(headers: [("Content-Type", "image/png")], body: json)
            default: return BackendResponse(headers: [("Content-Type", "text/plain")], body: "?")
            }
        }
        let gateway = try await RunningGateway.start(routes: [
            RouteSpec(name: "zip", pathPrefix: "/z", stripPrefix: true, upstreams: [upstream(backend.port)],
                      gzip: true, gzipMinBytes: 1024),
            RouteSpec(upstreams: [upstream(backend.port)]),
        ])
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .disabled
        return Setup(backend: backend, gateway: gateway, client: HTTPClient(eventLoopGroup: testGroup, configuration: configuration))
    }

    /// `gzip -dc` of `bytes`.
    static func gunzip(_ bytes: [UInt8]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(External.find("gzip")))
        process.arguments = ["-dc"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test("on: a JSON response is gzipped, decodes to the original, and says Vary: Accept-Encoding")
    func compresses() async throws {
        let setup = try await Self.start()
        defer { Task { await setup.stop() } }
        let (head, body) = try await setup.get("/z/json", acceptEncoding: "gzip, deflate;q=0.5")
        #expect(head.status == .ok)
        #expect(head.headers.first(name: "content-encoding") == "gzip")
        #expect(head.headers["vary"].contains { $0.lowercased().contains("accept-encoding") })
        #expect(body.count < Self.json.utf8.count / 3)
        if let length = head.headers.first(name: "content-length") { #expect(Int(length) == body.count) }
        #expect(try Self.gunzip(body) == Self.json)
        // The session works as on any route.
        #expect(head.headers.first(name: "X-Session-Token") != nil)
    }

    @Test("off: a route without gzip sends the body as the backend did")
    func routeWithoutGzip() async throws {
        let setup = try await Self.start()
        defer { Task { await setup.stop() } }
        let (head, body) = try await setup.get("/json", acceptEncoding: "gzip")
        #expect(head.headers.first(name: "content-encoding") == nil)
        #expect(head.headers["vary"].isEmpty)
        #expect(String(decoding: body, as: UTF8.self) == Self.json)
    }

    @Test("not when the client does not accept gzip (absent or q=0); Vary is still set")
    func clientRefuses() async throws {
        let setup = try await Self.start()
        defer { Task { await setup.stop() } }
        for accept in [nil, "identity", "gzip;q=0", "br"] as [String?] {
            let (head, body) = try await setup.get("/z/json", acceptEncoding: accept)
            #expect(head.headers.first(name: "content-encoding") == nil, "Accept-Encoding: \(accept ?? "none")")
            #expect(head.headers["vary"].contains { $0.lowercased().contains("accept-encoding") })
            #expect(String(decoding: body, as: UTF8.self) == Self.json)
        }
    }

    @Test("not when already encoded, not when tiny, not for images")
    func leftAlone() async throws {
        let setup = try await Self.start()
        defer { Task { await setup.stop() } }
        let encoded = try await setup.get("/z/encoded", acceptEncoding: "gzip")
        #expect(encoded.head.headers["content-encoding"] == ["br"])
        #expect(String(decoding: encoded.body, as: UTF8.self) == Self.json)

        let tiny = try await setup.get("/z/tiny", acceptEncoding: "gzip")
        #expect(tiny.head.headers.first(name: "content-encoding") == nil)
        #expect(String(decoding: tiny.body, as: UTF8.self) == #"{"ok":true}"#)

        let image = try await setup.get("/z/image", acceptEncoding: "gzip")
        #expect(image.head.headers.first(name: "content-encoding") == nil)
        #expect(image.body.count == Self.json.utf8.count)
    }

    @Test("Accept-Encoding parsing")
    func acceptParsing() {
        #expect(ResponseGzip.acceptsGzip(["gzip"]))
        #expect(ResponseGzip.acceptsGzip(["deflate", "gzip;q=0.1"]))
        #expect(ResponseGzip.acceptsGzip(["*"]))
        #expect(ResponseGzip.acceptsGzip(["X-GZIP"]))
        #expect(!ResponseGzip.acceptsGzip([]))
        #expect(!ResponseGzip.acceptsGzip(["gzip;q=0", "*"]))
        #expect(!ResponseGzip.acceptsGzip(["*;q=0"]))
        #expect(!ResponseGzip.acceptsGzip(["br", "identity"]))
    }
}
