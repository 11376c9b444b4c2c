import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTPCompression

/// What the compressor may do with the response to one request, decided when its head arrives.
struct GzipRule {
    /// The client accepts gzip (`Accept-Encoding`, q > 0).
    var clientAcceptsGzip: Bool
    /// Responses with a smaller `Content-Length` are left alone.
    var minimumBytes: Int
    /// A HEAD request: its response has no body to compress.
    var isHead: Bool
}

/// The rules of the requests whose responses are not yet written, oldest first (HTTP/1.1
/// answers in order; an HTTP/2 stream carries one request).
final class GzipRuleQueue {
    var rules = CircularBuffer<GzipRule?>(initialCapacity: 4)
}

/// Sits before the compressor: notes, for each request head, whether its route compresses and
/// whether the client accepts gzip, for the compressor's predicate to read when the response
/// head goes out.
final class GzipRequestTracker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let env: GatewayEnvironment
    private let queue: GzipRuleQueue

    init(env: GatewayEnvironment, queue: GzipRuleQueue) {
        self.env = env
        self.queue = queue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            queue.rules.append(rule(for: head))
        }
        context.fireChannelRead(data)
    }

    private func rule(for head: HTTPRequestHead) -> GzipRule? {
        let uri = head.uri
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? Substring(uri)
        if RouteSpec.pathHasPrefix(path, env.settings.reservedPrefix) { return nil }
        let host = ProxyHandler.hostWithoutPort(head.headers.first(name: "host") ?? "")
        guard let route = env.routes.route(host: host, path: path), route.gzip else { return nil }
        return GzipRule(
            clientAcceptsGzip: ResponseGzip.acceptsGzip(head.headers[canonicalForm: "accept-encoding"]),
            minimumBytes: route.gzipMinBytes, isHead: head.method == .HEAD)
    }
}

/// gzip of responses on routes with `gzip: true`, through NIOHTTPCompression's compressor.
enum ResponseGzip {
    /// Adds the tracker and the compressor to a server pipeline, before the proxy handler.
    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, env: GatewayEnvironment) throws {
        let queue = GzipRuleQueue()
        try pipeline.addHandler(GzipRequestTracker(env: env, queue: queue))
        try pipeline.addHandler(HTTPResponseCompressor(initialByteBufferCapacity: 1024) { head, supported in
            let rule = queue.rules.isEmpty ? nil : queue.rules.removeFirst()
            return decide(rule, head: &head, compressionSupported: supported)
        })
    }

    /// Whether to compress a response: only on a gzip route, for a body of a compressible type
    /// the backend did not encode, not under the route's minimum size, and only for a client
    /// that accepts gzip. Every response that could be compressed says `Vary: Accept-Encoding`.
    static func decide(
        _ rule: GzipRule?, head: inout HTTPResponseHead, compressionSupported: Bool
    ) -> HTTPResponseCompressor.CompressionIntent {
        guard let rule, !rule.isHead, head.status.mayHaveResponseBody, head.status != .partialContent else {
            return .doNotCompress
        }
        let headers = head.headers
        guard !headers.contains(name: "content-encoding"), isCompressible(headers.first(name: "content-type")),
              !headers[canonicalForm: "cache-control"].contains(where: { $0.lowercased() == "no-transform" })
        else { return .doNotCompress }
        if let length = headers.first(name: "content-length").flatMap(Int.init), length < rule.minimumBytes {
            return .doNotCompress
        }
        if !headers[canonicalForm: "vary"].contains(where: { $0.lowercased() == "accept-encoding" || $0 == "*" }) {
            head.headers.add(name: "Vary", value: "Accept-Encoding")
        }
        return compressionSupported && rule.clientAcceptsGzip ? .compressIfPossible : .doNotCompress
    }

    /// Text, JSON, XML, JavaScript and SVG; not images, archives or anything already packed.
    static func isCompressible(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        if type.hasPrefix("text/") { return true }
        if type.hasSuffix("+json") || type.hasSuffix("+xml") { return true }
        return [
            "application/json", "application/javascript", "application/x-javascript", "application/xml",
            "application/x-www-form-urlencoded", "image/svg+xml", "application/wasm",
        ].contains(type)
    }

    /// Whether an `Accept-Encoding` list accepts gzip: `gzip`/`x-gzip`, or `*`, with q > 0.
    static func acceptsGzip(_ values: [Substring]) -> Bool {
        var gzip: Double?
        var any: Double?
        for value in values {
            let parts = value.split(separator: ";")
            guard let name = parts.first?.trimmingCharacters(in: .whitespaces).lowercased() else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0].lowercased() == "q" { q = Double(pair[1]) ?? 0 }
            }
            if name == "gzip" || name == "x-gzip" { gzip = q } else if name == "*" { any = q }
        }
        return (gzip ?? any ?? 0) > 0
    }
}
