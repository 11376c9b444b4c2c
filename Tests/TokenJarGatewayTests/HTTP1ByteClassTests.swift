import Testing

@testable import TokenJarGateway

/// The byte classes of the response parser, against their definitions written out plainly.
@Suite("HTTP/1 byte classes")
struct HTTP1ByteClassTests {
    /// tchar, RFC 9110 §5.6.2.
    static func tchar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    @Test("token bytes: exactly tchar, for all 256 values")
    func tokenBytes() {
        for value in 0...255 {
            let byte = UInt8(value)
            #expect(HTTP1ResponseParser.isTokenByte(byte) == Self.tchar(byte), "byte \(value)")
        }
    }

    @Test("field bytes eight at a time: any byte value at any position of values of 0 to 24 bytes")
    func fieldBytes() {
        for value in 0...255 {
            let byte = UInt8(value)
            let allowed = byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
            #expect(HTTP1ResponseParser.isFieldByte(byte) == allowed, "byte \(value)")
            for length in 1...24 {
                for position in [0, length / 2, length - 1] {
                    // Filler bytes from both ends of the allowed range around the byte under test.
                    var bytes = (0..<length).map { UInt8($0 % 2 == 0 ? 0x20 : 0xFF) }
                    bytes[position] = byte
                    let result = bytes.withUnsafeBytes { HTTP1ResponseParser.allFieldBytes($0) }
                    #expect(result == allowed, "byte \(value), length \(length), position \(position)")
                }
            }
        }
        #expect([UInt8]().withUnsafeBytes { HTTP1ResponseParser.allFieldBytes($0) })
    }
}
