import NIOCore
import NIOHTTP1

/// How a message's body is delimited on the wire, decided by NIO's rules (its encoders'
/// `correctlyFrameTransportHeaders`): one scan of the headers, and a change to them only where
/// a framing header has to go or, for a body that needs chunks, be set.
enum HTTP1Framing: Equatable {
    case contentLength
    case chunked
    case neither

    /// Whether the message carries a body: NIO's `HTTPMethod.HasBody`.
    enum Body {
        case yes
        case no
        case unlikely

        /// What a request with `method` is expected to carry.
        init(requestMethod method: HTTPMethod) {
            switch method {
            case .TRACE: self = .no
            case .POST, .PUT, .PATCH: self = .yes
            default: self = .unlikely
            }
        }
    }

    static func frame(_ headers: inout HTTPHeaders, body: Body, version: HTTPVersion) -> HTTP1Framing {
        var hasLength = false
        var hasCoding = false
        var firstCoding: String?
        for (name, value) in headers {
            switch name.utf8.count {
            case 14 where ASCIICase.equal(name, "content-length"):
                hasLength = true
            case 17 where ASCIICase.equal(name, "transfer-encoding"):
                if !hasCoding { firstCoding = value }
                hasCoding = true
            default:
                break
            }
        }
        let chunksAllowed = version.major == 1 && version.minor >= 1
        switch body {
        case .no:
            if hasLength { headers.remove(name: "content-length") }
            if hasCoding { headers.remove(name: "transfer-encoding") }
            return .neither
        case .yes, .unlikely:
            if hasLength {
                if hasCoding { headers.remove(name: "transfer-encoding") }
                return .contentLength
            }
            guard chunksAllowed else { return .neither }
            if body == .unlikely { return firstCoding == "chunked" ? .chunked : .neither }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            return .chunked
        }
    }
}

/// Body and end parts in HTTP/1.1 framing, shared by both encoders.
enum HTTP1BodyWriter {
    /// Chunks up to this size are copied between their size line and CRLF (one buffer); larger
    /// ones are written between two small buffers, uncopied.
    static let copiedChunkLimit = 2048

    static func body(
        _ part: IOData, chunked: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        let size = part.readableBytes
        guard chunked, size > 0 else {
            // An empty chunk would end the body: it is written as nothing, for the promise.
            context.write(NIOAny(part), promise: promise)
            return
        }
        var sizeLine = context.channel.allocator.buffer(capacity: size <= copiedChunkLimit ? size + 16 : 16)
        HTTP1HeadWriter.writeChunkSize(size, into: &sizeLine)
        if size <= copiedChunkLimit, case .byteBuffer(var bytes) = part {
            sizeLine.writeBuffer(&bytes)
            sizeLine.writeStaticString("\r\n")
            context.write(NIOAny(IOData.byteBuffer(sizeLine)), promise: promise)
            return
        }
        context.write(NIOAny(IOData.byteBuffer(sizeLine)), promise: nil)
        context.write(NIOAny(part), promise: nil)
        var end = context.channel.allocator.buffer(capacity: 2)
        end.writeStaticString("\r\n")
        context.write(NIOAny(IOData.byteBuffer(end)), promise: promise)
    }

    static func end(
        trailers: HTTPHeaders?, chunked: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        if chunked {
            let last = HTTP1HeadWriter.encodeLastChunk(trailers: trailers, allocator: context.channel.allocator)
            context.write(NIOAny(IOData.byteBuffer(last)), promise: promise)
        } else if let promise {
            // Nothing to write, but the promise completes in order with the writes before it.
            context.write(NIOAny(IOData.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
        }
    }
}

/// Encodes the requests the gateway sends to a backend, in place of NIO's `HTTPRequestEncoder`:
/// the same bytes and framing, with the head written in one pass (`HTTP1HeadWriter`).
final class UpstreamRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    private var chunked = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            let body = HTTP1Framing.Body(requestMethod: head.method)
            chunked = HTTP1Framing.frame(&head.headers, body: body, version: head.version) == .chunked
            let bytes = HTTP1HeadWriter.encode(head, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .body(let part):
            HTTP1BodyWriter.body(part, chunked: chunked, context: context, promise: promise)
        case .end(let trailers):
            HTTP1BodyWriter.end(trailers: trailers, chunked: chunked, context: context, promise: promise)
        }
    }
}

/// Encodes the responses the gateway sends to an HTTP/1.x client, in place of NIO's
/// `HTTPResponseEncoder`: the same bytes and framing, the head written in one pass.
///
/// It sits behind the request decoder and notes each request head that passes, as NIO's encoder
/// hears from its decoder, so that the answer to a `HEAD` or `CONNECT` keeps its framing
/// headers but carries no body (RFC 9110 §9.3.2, RFC 9112 §6.3).
final class ClientResponseEncoder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    /// The kind of request each awaited response answers, oldest first.
    private enum Answering {
        case other
        case head
        case connect
    }

    private var awaiting = CircularBuffer<Answering>(initialCapacity: 4)
    private var chunked = false
    private var suppressBody = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data) {
            awaiting.append(request.method == .HEAD ? .head : request.method == .CONNECT ? .connect : .other)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            // An interim 1xx (not 101) is followed by the final head, which answers the request.
            let code = head.status.code
            var toConnect = false
            if !((100..<200).contains(code) && code != 101), let answering = awaiting.popFirst() {
                suppressBody = answering != .other
                toConnect = answering == .connect
            }
            let body: HTTP1Framing.Body = toConnect || !head.status.mayHaveResponseBody ? .no : .yes
            let framing = HTTP1Framing.frame(&head.headers, body: body, version: head.version)
            chunked = !suppressBody && framing == .chunked
            let bytes = HTTP1HeadWriter.encode(head, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .body(let part):
            if suppressBody {
                promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
            } else {
                HTTP1BodyWriter.body(part, chunked: chunked, context: context, promise: promise)
            }
        case .end(let trailers):
            suppressBody = false
            HTTP1BodyWriter.end(trailers: trailers, chunked: chunked, context: context, promise: promise)
        }
    }
}
