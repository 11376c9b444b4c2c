import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A response head as the parser read it, with what its framing needs.
struct ParsedHead {
    var status = 0
    var version = HTTPVersion.http1_1
    var headers = HTTPHeaders()
    /// How many `Content-Length` fields there were, and the value of the (last) one.
    var contentLengths = 0
    var contentLength = 0
    var transferEncoding = false
    /// Whether the last transfer coding is `chunked`.
    var chunked = false
    /// `Connection` options seen: `close` and `keep-alive`.
    var connectionClose = false
    var connectionKeepAlive = false
}

/// Heads, header lines, chunk-size lines and trailer sections.
extension HTTP1ResponseParser {
    private typealias Bytes = UnsafeRawBufferPointer
    private static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

    /// A complete head from the front of `buffer`, consumed; nil while it is incomplete.
    mutating func readHead(_ buffer: inout ByteBuffer) throws(HTTPParserError) -> ParsedHead? {
        guard let end = try sectionEnd(buffer) else { return nil }
        let parsed = buffer.withUnsafeReadableBytes { Self.parseHead(Bytes(rebasing: $0[..<end])) }
        buffer.moveReaderIndex(forwardBy: end)
        return try parsed.get()
    }

    /// A complete trailer section (nil inside when it is empty), consumed; nil while incomplete.
    mutating func readTrailers(_ buffer: inout ByteBuffer) throws(HTTPParserError) -> HTTPHeaders?? {
        guard let end = try sectionEnd(buffer) else { return nil }
        var head = ParsedHead()
        let parsed = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(HTTPParserError) in try Self.parseFields(Bytes(rebasing: bytes[..<end]), from: 0, into: &head, framing: false) }
        }
        buffer.moveReaderIndex(forwardBy: end)
        try parsed.get()
        return .some(head.headers.isEmpty ? nil : head.headers)
    }

    /// A chunk-size line (hex size, then optional extensions), consumed; nil while incomplete.
    mutating func readChunkSize(_ buffer: inout ByteBuffer) throws(HTTPParserError) -> Int? {
        let line = buffer.withUnsafeReadableBytes { bytes -> Result<(size: Int, length: Int)?, HTTPParserError> in
            guard let lf = bytes.firstIndex(of: Self.lf) else {
                return bytes.count > Self.maxChunkLine ? .failure(.invalidChunkSize) : .success(nil)
            }
            guard lf > 0, bytes[lf - 1] == Self.cr, lf <= Self.maxChunkLine else { return .failure(.invalidChunkSize) }
            var size = 0
            var index = 0
            while index < lf - 1, let digit = Self.hexValue(bytes[index]) {
                guard size <= (Int.max >> 4) else { return .failure(.invalidChunkSize) }
                size = size << 4 | digit
                index += 1
            }
            guard index > 0 else { return .failure(.invalidChunkSize) }
            if index < lf - 1 {
                // Extensions: `;` then anything but control bytes (tab allowed); ignored.
                guard bytes[index] == UInt8(ascii: ";"),
                      !bytes[index..<(lf - 1)].contains(where: { !Self.isFieldByte($0) }) else {
                    return .failure(.invalidChunkSize)
                }
            }
            return .success((size, lf + 1))
        }
        guard let (size, length) = try line.get() else { return nil }
        buffer.moveReaderIndex(forwardBy: length)
        return size
    }

    /// The length up to and including the empty line that ends a head or trailer section, or
    /// nil while it has not arrived. Every LF must follow a CR; the search resumes where the
    /// last one stopped.
    private mutating func sectionEnd(_ buffer: ByteBuffer) throws(HTTPParserError) -> Int? {
        let found = buffer.withUnsafeReadableBytes { bytes -> Result<Int?, HTTPParserError> in
            var index = scanned
            while index < bytes.count {
                guard let found = memchr(bytes.baseAddress! + index, Int32(Self.lf), bytes.count - index) else { break }
                let lf = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                guard lf > 0, bytes[lf - 1] == Self.cr else { return .failure(.lfExpected) }
                // An empty line: at the very start (an empty trailer section) or after a line.
                if lf == 1 || bytes[lf - 2] == Self.lf { return .success(lf + 1) }
                index = lf + 1
            }
            if bytes.count > Self.maxHeadBytes { return .failure(.headerOverflow) }
            return .success(nil)
        }
        guard let end = try found.get() else {
            scanned = buffer.readableBytes
            return nil
        }
        scanned = 0
        if end > Self.maxHeadBytes { throw .headerOverflow }
        return end
    }

    /// Status line and fields of a complete head (CRLFs already checked).
    private static func parseHead(_ bytes: Bytes) -> Result<ParsedHead, HTTPParserError> {
        Result { () throws(HTTPParserError) in
            // "HTTP/1.x SP 3DIGIT [SP reason] CRLF"
            guard bytes.count >= 14, bytes.starts(with: "HTTP/1.".utf8) else { throw .invalidVersion }
            var head = ParsedHead()
            switch bytes[7] {
            case UInt8(ascii: "1"): head.version = .http1_1
            case UInt8(ascii: "0"): head.version = .http1_0
            default: throw .invalidVersion
            }
            guard bytes[8] == UInt8(ascii: " ") else { throw .invalidVersion }
            for index in 9..<12 {
                guard let digit = digitValue(bytes[index]) else { throw .invalidStatus }
                head.status = head.status * 10 + digit
            }
            guard head.status >= 100 else { throw .invalidStatus }
            var index = 12
            if bytes[index] == UInt8(ascii: " ") {
                // The reason phrase: read past, not kept (the status code says it all).
                while bytes[index] != cr {
                    guard isFieldByte(bytes[index]) else { throw .invalidStatus }
                    index += 1
                }
            }
            guard bytes[index] == cr else { throw .invalidStatus }
            guard bytes[index + 1] == lf else { throw .lfExpected }
            try parseFields(bytes, from: index + 2, into: &head, framing: true)
            return head
        }
    }

    /// `name: value` lines from `start` to the empty line, into `head.headers`, noting framing.
    /// Each line's CR must be followed by LF: the section end was found by its LFs alone.
    private static func parseFields(
        _ bytes: Bytes, from start: Int, into head: inout ParsedHead, framing: Bool
    ) throws(HTTPParserError) {
        var fields: [(String, String)] = []
        fields.reserveCapacity(16)
        var index = start
        while bytes[index] != cr {
            // The name: token characters up to the colon (no space before it, no folding).
            let nameStart = index
            while bytes[index] != UInt8(ascii: ":") {
                guard isTokenByte(bytes[index]) else { throw .invalidHeaderToken }
                index += 1
            }
            let name = Bytes(rebasing: bytes[nameStart..<index])
            guard !name.isEmpty else { throw .invalidHeaderToken }
            index += 1
            while bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            let valueStart = index
            // The section ends with CR LF CR LF, so a CR is found.
            index = bytes.baseAddress!.distance(
                to: UnsafeRawPointer(memchr(bytes.baseAddress! + index, Int32(cr), bytes.count - index)!))
            guard allFieldBytes(Bytes(rebasing: bytes[valueStart..<index])) else { throw .invalidHeaderToken }
            var valueEnd = index
            while valueEnd > valueStart && (bytes[valueEnd - 1] == UInt8(ascii: " ") || bytes[valueEnd - 1] == UInt8(ascii: "\t")) {
                valueEnd -= 1
            }
            guard bytes[index + 1] == lf else { throw .lfExpected }
            index += 2
            let value = Bytes(rebasing: bytes[valueStart..<valueEnd])
            if framing { try noteFraming(name, value, &head) }
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        guard bytes[index + 1] == lf else { throw .lfExpected }
        head.headers = HTTPHeaders(fields)
    }

    private static func noteFraming(_ name: Bytes, _ value: Bytes, _ head: inout ParsedHead) throws(HTTPParserError) {
        if name.count == 14 && equalIgnoringCase(name, "content-length") {
            guard !value.isEmpty else { throw .invalidContentLength }
            var length = 0
            for byte in value {
                guard let digit = digitValue(byte) else { throw .invalidContentLength }
                let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                guard !overflow1 && !overflow2 else { throw .invalidContentLength }
                length = sum
            }
            head.contentLengths += 1
            head.contentLength = length
        } else if name.count == 17 && equalIgnoringCase(name, "transfer-encoding") {
            head.transferEncoding = true
            // The last non-empty coding of the last field decides.
            var last = Bytes(rebasing: value[0..<0])
            forEachListItem(value) { last = $0 }
            head.chunked = last.count == 7 && equalIgnoringCase(last, "chunked")
        } else if name.count == 10 && equalIgnoringCase(name, "connection") {
            forEachListItem(value) { option in
                if option.count == 5 && equalIgnoringCase(option, "close") { head.connectionClose = true }
                if option.count == 10 && equalIgnoringCase(option, "keep-alive") { head.connectionKeepAlive = true }
            }
        }
    }

    /// The non-empty items of a comma-separated list, without the whitespace around them.
    private static func forEachListItem(_ value: Bytes, _ body: (Bytes) -> Void) {
        for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            var token = Bytes(rebasing: item)
            while let first = token.first, first == 0x20 || first == 0x09 { token = Bytes(rebasing: token.dropFirst()) }
            while let tail = token.last, tail == 0x20 || tail == 0x09 { token = Bytes(rebasing: token.dropLast()) }
            if !token.isEmpty { body(token) }
        }
    }

    private static func equalIgnoringCase(_ bytes: Bytes, _ lower: StaticString) -> Bool {
        let expected = UnsafeRawBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        guard bytes.count == expected.count else { return false }
        for index in 0..<bytes.count where bytes[index] | 0x20 != expected[index] { return false }
        return true
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// tchar (RFC 9110 §5.6.2): digits, letters and ``!#$%&'*+-.^_`|~``, as one bit per byte
    /// value below 128 (bytes 0–63, then 64–127).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        let (low, high): (UInt64, UInt64) = (0x03FF_6CFA_0000_0000, 0x57FF_FFFF_C7FF_FFFE)
        return byte < 64 ? (low >> byte) & 1 == 1 : byte < 128 && (high >> (byte - 64)) & 1 == 1
    }

    /// Whether every byte is a field byte (`isFieldByte`), eight at a time: a word is looked at
    /// byte by byte only when it may hold a byte below 0x20 (a tab, or a control byte) or DEL.
    static func allFieldBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let below20 = (word &- ones &* 0x20) & ~word & highs
            let del = word ^ (ones &* 0x7F)
            let isDEL = (del &- ones) & ~del & highs
            if below20 | isDEL != 0 {
                for offset in index..<(index + 8) where !isFieldByte(bytes[offset]) { return false }
            }
            index += 8
        }
        while index < bytes.count {
            guard isFieldByte(bytes[index]) else { return false }
            index += 1
        }
        return true
    }

    /// A byte allowed in a field value or reason phrase: tab, visible ASCII, space, obs-text.
    static func isFieldByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }
}
