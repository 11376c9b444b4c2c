import NIOCore
import NIOHTTP1

/// Reads a backend's HTTP/1.x responses, one part at a time, from the bytes of one upstream
/// connection: a plain value that `UpstreamHandler` feeds, so a response costs no decoder
/// handler, no boxing of parts between handlers and no callback per header piece.
///
/// It is strict where leniency would let a backend smuggle or split: lines end in CRLF; a bare
/// CR or LF, a NUL or another control byte in a header, obsolete line folding, a space before
/// a colon, a second or malformed `Content-Length`, `Content-Length` beside
/// `Transfer-Encoding`, and a malformed chunk are errors (`HTTPParserError`, as NIO's decoder
/// raises for them), and the connection is not used again. Framing follows RFC 9112 §6.3: no
/// body after `HEAD` or for 1xx, 204 and 304; chunked when it is the last transfer coding;
/// otherwise `Content-Length`; otherwise the body runs to the end of the connection. Interim
/// 1xx responses other than 101 are skipped, as NIO's decoder does by default; after a 101
/// nothing more is read.
///
/// `package` rather than internal so the `upstream-response` fuzz target can drive it.
package struct HTTP1ResponseParser {
    package enum State: Equatable {
        /// Waiting for a status line and headers (possibly after a response ended).
        case head
        case fixedBody(remaining: Int)
        case untilClose
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkEnd
        case trailers
        /// After a 101: the connection is no longer HTTP.
        case upgraded
    }

    /// The most bytes a head (status line, headers and the empty line) or a trailer section may
    /// take: NIO's decoder allows 80 KiB of headers.
    package static let maxHeadBytes = 80 * 1024 + 1024
    /// Longest chunk-size line accepted (hex digits and chunk extensions).
    static let maxChunkLine = 4096

    package private(set) var state = State.head
    /// Whether the request this response answers was `HEAD` (set as each request head goes out).
    package var answersHEAD = false
    /// Whether the connection may carry another request after the last response head: HTTP/1.1
    /// without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`, and a body that
    /// does not run to the close (NIO's decoder says the same through `isKeepAlive`).
    package private(set) var keepAlive = false
    /// Bytes at the front of the buffer already searched for the end of a head or line.
    var scanned = 0

    package init() {}

    /// The next part in `buffer`, consuming its bytes; nil when more bytes are needed.
    package mutating func next(_ buffer: inout ByteBuffer) throws(HTTPParserError) -> HTTPClientResponsePart? {
        while true {
            switch state {
            case .head:
                guard let head = try readHead(&buffer) else { return nil }
                if let part = try startResponse(head) { return part }
            case .fixedBody(let remaining):
                if remaining == 0 {
                    state = .head
                    return .end(nil)
                }
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = .fixedBody(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = remaining == count ? .chunkEnd : .chunkData(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .invalidChunkSize }
                state = .chunkSize
            case .trailers:
                guard let trailers = try readTrailers(&buffer) else { return nil }
                state = .head
                return .end(trailers)
            case .upgraded:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
        }
    }

    /// At the end of the connection: the end of a body that runs to it, nil when no response
    /// was under way, or `invalidEOFState` for a response cut short. `buffered` says whether
    /// bytes of an unfinished head or chunk line are still held.
    package mutating func finish(buffered: Bool) throws(HTTPParserError) -> HTTPClientResponsePart? {
        switch state {
        case .head where !buffered, .upgraded:
            return nil
        case .untilClose:
            state = .head
            return .end(nil)
        default:
            throw .invalidEOFState
        }
    }

    /// Decides the framing of a parsed head and returns its part (nil for a skipped 1xx).
    private mutating func startResponse(_ head: ParsedHead) throws(HTTPParserError) -> HTTPClientResponsePart? {
        let status = head.status
        if status < 200 && status != 101 { return nil }  // interim: skipped, the final head follows
        let part = HTTPClientResponsePart.head(
            HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: head.headers))
        keepAlive = false
        if status == 101 {
            state = .upgraded
            return part
        }
        if head.contentLengths > 1 || (head.contentLengths == 1 && head.transferEncoding) {
            throw .unexpectedContentLength
        }
        if answersHEAD || status == 204 || status == 304 {
            state = .fixedBody(remaining: 0)
        } else if head.transferEncoding {
            // RFC 9112 §6.3: chunked only as the last coding; any other coding runs to the close.
            state = head.chunked ? .chunkSize : .untilClose
        } else if head.contentLengths == 1 {
            state = .fixedBody(remaining: head.contentLength)
        } else {
            state = .untilClose
        }
        keepAlive = state != .untilClose
            && (head.version == .http1_1 ? !head.connectionClose : head.connectionKeepAlive)
        return part
    }
}
