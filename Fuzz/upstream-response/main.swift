// libFuzzer target: backend response bytes through HTTP1ResponseParser, the parser of every
// upstream connection. Built only with `swift build --sanitize=fuzzer` (see scripts/fuzz); in a
// plain build it does nothing.
//
// Input: one option byte (bit 0: the request was HEAD; the other bits choose where the bytes
// are cut into two reads), then the bytes a backend sends.
//
// Invariants: the parts and the error are the same whether the bytes come in one read, in two
// reads cut anywhere, or (for short inputs) one byte at a time; body bytes never exceed the
// input; no header or trailer name is empty or holds anything but token characters, and no
// value holds CR, LF or NUL; the end of the connection yields at most one end part.
import NIOCore
import NIOHTTP1
import TokenJarGateway

enum Event: Equatable {
    case head(HTTPResponseHead)
    case body([UInt8])
    case end(HTTPHeaders?)
    case failed(HTTPParserError)
}

let tokenBytes = Set(Array("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8))

func checkFields(_ headers: HTTPHeaders) {
    for field in headers {
        if field.name.isEmpty || !field.name.utf8.allSatisfy(tokenBytes.contains) { fatalError("a bad field name passed") }
        if field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) { fatalError("CR, LF or NUL in a value") }
    }
}

/// Parses `reads` in turn, joining bodies; then the end of the connection when `eof`.
func parse(_ reads: [ArraySlice<UInt8>], head: Bool, eof: Bool) -> [Event] {
    var parser = HTTP1ResponseParser()
    parser.answersHEAD = head
    var events: [Event] = []
    var held = ByteBuffer()
    func add(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            checkFields(head.headers)
            events.append(.head(head))
        case .body(let bytes):
            if case .body(let earlier) = events.last {
                events[events.count - 1] = .body(earlier + Array(bytes.readableBytesView))
            } else {
                events.append(.body(Array(bytes.readableBytesView)))
            }
        case .end(let trailers):
            if let trailers { checkFields(trailers) }
            events.append(.end(trailers))
        }
    }
    do throws(HTTPParserError) {
        for read in reads {
            held.writeBytes(read)
            while let part = try parser.next(&held) { add(part) }
        }
        if eof, let part = try parser.finish(buffered: held.readableBytes > 0) { add(part) }
    } catch {
        events.append(.failed(error))
    }
    return events
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUpstreamResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let option = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let head = option & 1 == 1
    for eof in [false, true] {
        let whole = parse([bytes[...]], head: head, eof: eof)
        let bodyBytes = whole.reduce(0) { total, event in
            if case .body(let body) = event { total + body.count } else { total }
        }
        if bodyBytes > bytes.count { fatalError("more body bytes than input") }
        if eof, whole.filter({ if case .end = $0 { true } else { false } }).count
            > whole.filter({ if case .head = $0 { true } else { false } }).count {
            fatalError("more ends than heads")
        }
        let cut = bytes.isEmpty ? 0 : Int(option >> 1) % (bytes.count + 1)
        if parse([bytes[..<cut], bytes[cut...]], head: head, eof: eof) != whole {
            fatalError("two reads cut at \(cut) parse differently from one")
        }
        if bytes.count <= 512, parse(bytes.indices.map { bytes[$0...$0] }, head: head, eof: eof) != whole {
            fatalError("byte-by-byte reads parse differently from one")
        }
    }
    return 0
}
