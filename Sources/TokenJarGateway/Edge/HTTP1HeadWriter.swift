import NIOCore
import NIOHTTP1

/// Writes HTTP/1.x heads as NIO's encoders do, byte for byte, in one pass: the head's length is
/// summed first, then every piece is copied into a single reservation of the buffer. (NIO's
/// encoders write each header line in four separately checked pieces.)
enum HTTP1HeadWriter {
    /// `METHOD uri HTTP/x.y`, the header lines and the blank line, in a buffer of that size.
    static func encode(_ head: HTTPRequestHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        let method = head.method.rawValue
        let version = VersionText(head.version)
        let size = method.utf8.count + 1 + head.uri.utf8.count + 1 + version.count + 2 + headerBytes(head.headers)
        var buffer = allocator.buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var out = Cursor(raw.baseAddress!)
            out.put(method)
            out.put(0x20)
            out.put(head.uri)
            out.put(0x20)
            version.put(into: &out)
            out.putCRLF()
            out.put(head.headers)
            assert(out.offset == size)
            return size
        }
        return buffer
    }

    /// `HTTP/x.y code reason`, the header lines and the blank line, in a buffer of that size.
    static func encode(_ head: HTTPResponseHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        let version = VersionText(head.version)
        let code = head.status.code
        let reason = head.status.reasonPhrase
        let size = version.count + 1 + digits(code) + 1 + reason.utf8.count + 2 + headerBytes(head.headers)
        var buffer = allocator.buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var out = Cursor(raw.baseAddress!)
            version.put(into: &out)
            out.put(0x20)
            out.put(decimal: code)
            out.put(0x20)
            out.put(reason)
            out.putCRLF()
            out.put(head.headers)
            assert(out.offset == size)
            return size
        }
        return buffer
    }

    /// Trailers after the last chunk: `0` CRLF, the trailer lines and the blank line.
    static func encodeLastChunk(trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer {
        let size = 3 + (trailers.map(headerBytes) ?? 2)
        var buffer = allocator.buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var out = Cursor(raw.baseAddress!)
            out.put(0x30)
            out.putCRLF()
            if let trailers { out.put(trailers) } else { out.putCRLF() }
            return size
        }
        return buffer
    }

    /// A chunk's size line (hex, CRLF), written into `buffer`.
    static func writeChunkSize(_ size: Int, into buffer: inout ByteBuffer) {
        var digits = 1
        while size >> (4 * digits) > 0 { digits += 1 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits + 2) { raw in
            for index in 0..<digits {
                let nibble = (size >> (4 * (digits - 1 - index))) & 0xF
                raw[index] = UInt8(truncatingIfNeeded: nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10)
            }
            raw[digits] = 0x0D
            raw[digits + 1] = 0x0A
            return digits + 2
        }
    }

    /// The header lines (`name: value` CRLF) and the blank line that ends the head.
    static func headerBytes(_ headers: HTTPHeaders) -> Int {
        var total = 2
        for (name, value) in headers { total += name.utf8.count + value.utf8.count + 4 }
        return total
    }

    static func digits(_ value: UInt) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }

    /// `HTTP/1.1` and `HTTP/1.0` as constants; any other version spelled out.
    struct VersionText {
        let major: Int
        let minor: Int
        let count: Int

        init(_ version: HTTPVersion) {
            major = version.major
            minor = version.minor
            count = 5 + HTTP1HeadWriter.digits(UInt(major)) + 1 + HTTP1HeadWriter.digits(UInt(minor))
        }

        func put(into out: inout Cursor) {
            out.put("HTTP/")
            out.put(decimal: UInt(major))
            out.put(0x2E)
            out.put(decimal: UInt(minor))
        }
    }

    /// A write position in memory that `write` reserved; bounds are the caller's sum.
    struct Cursor {
        let base: UnsafeMutableRawPointer
        var offset = 0

        init(_ base: UnsafeMutableRawPointer) { self.base = base }

        @inline(__always)
        mutating func put(_ byte: UInt8) {
            base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }

        @inline(__always)
        mutating func putCRLF() {
            base.storeBytes(of: 0x0D, toByteOffset: offset, as: UInt8.self)
            base.storeBytes(of: 0x0A, toByteOffset: offset + 1, as: UInt8.self)
            offset += 2
        }

        @inline(__always)
        mutating func put(_ text: String) {
            let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
                if let source = bytes.baseAddress {
                    (base + offset).copyMemory(from: source, byteCount: bytes.count)
                }
                return bytes.count
            }
            if let copied {
                offset += copied
            } else {
                for byte in text.utf8 { put(byte) }
            }
        }

        mutating func put(decimal value: UInt) {
            let count = HTTP1HeadWriter.digits(value)
            var rest = value
            for index in stride(from: count - 1, through: 0, by: -1) {
                base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + rest % 10), toByteOffset: offset + index, as: UInt8.self)
                rest /= 10
            }
            offset += count
        }

        mutating func put(_ headers: HTTPHeaders) {
            for (name, value) in headers {
                put(name)
                put(0x3A)
                put(0x20)
                put(value)
                putCRLF()
            }
            putCRLF()
        }
    }
}
